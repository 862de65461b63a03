"""Property-based run of schemathesis over the whole /api/v1 OpenAPI document, as an admin, on both
databases: no answer is a 5xx, and every answer (errors included) conforms to the documented schema.

Cases are generated once per run from a fixed seed, schema-valid ones and ones that break the schema on
purpose, then replayed in-process on each database. The document is fetched through the test's own
client and loaded with `from_dict`: `from_asgi` would serve the app from a second event loop, whose
lifespan replaces `app.state.db` with an engine bound to that loop (fatal for asyncpg).
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis.errors import Unsatisfiable
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from stateset_gateway.db.demo import SeedSize
from stateset_gateway.db.demo import seed as seed_demo
from stateset_gateway.db.engine import Database

# Every operation but the ones that end the caller's own session or sign in with passwords: the run's
# admin key must stay valid, and the sign-in guard would lock the run out.
EXCLUDED = r"^/api/v1/(auth/(logout|login|register|refresh|token)|oauth)"
SEED = 20261201
POSITIVE_EXAMPLES = 20
NEGATIVE_EXAMPLES = 10

_cases: list[Any] = []


def generate_cases(spec: dict[str, Any]) -> list[Any]:
    """The same requests for both databases: generating them is most of the run's cost."""
    if _cases:
        return _cases
    schema = schemathesis.openapi.from_dict(spec).include(path_regex=r"^/api/v1/").exclude(path_regex=EXCLUDED)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
                               (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):

            @seed(SEED)
            @hypothesis_settings(max_examples=examples, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                _cases.append(case)

            try:
                collect()
            except Unsatisfiable:  # nothing to break on purpose: an operation without parameters or body
                assert mode is GenerationMode.NEGATIVE, operation.path
    return _cases


def as_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis serialises for `requests`; httpx names a raw body `content`."""
    kwargs = {k: v for k, v in kwargs.items() if k != "cookies"}
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    return kwargs


async def test_fuzzing_the_openapi_document_finds_no_server_error_and_no_schema_break(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db: Database
) -> None:
    await seed_demo(db, SeedSize(customers=5, products=5, orders=20))  # lists and lookups have rows to show
    spec = (await client.get("/api/v1/openapi.json")).json()
    cases = generate_cases(spec)
    operations = {(case.method, case.operation.path) for case in cases}
    assert len(operations) >= 45 and len(cases) > 600, (len(operations), len(cases))
    failures: list[str] = []
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=admin_headers)
        response = await client.request(**as_httpx(kwargs))
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except Exception as exc:  # collect them all: one run shows every broken operation
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.300}: {exc}"[:2500])
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:8])
