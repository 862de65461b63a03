"""The OpenAPI document of /api/v1: every route documents its success and error responses, and a
bounded property-based run (schemathesis) over it finds no 5xx and no response that breaks the schema."""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database

MINE = r"^/api/v1/(customers|products|inventory|orders|returns|shipments)"
EXAMPLES_PER_OPERATION = 6
NEGATIVE_EXAMPLES_PER_OPERATION = 3


async def test_document_is_openapi_31_and_every_route_documents_its_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    operations = [(path, method, op) for path, item in spec["paths"].items() if re.match(MINE, path)
                  for method, op in item.items()]
    assert len(operations) >= 40
    for path, method, op in operations:
        codes = set(op["responses"])
        success = {"200", "201", "204"} & codes
        assert len(success) == 1, (method, path, codes)
        assert {"400", "401", "403", "default"} <= codes, (method, path)
        assert "422" not in codes or "HTTPValidationError" not in str(op["responses"]["422"]), (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method == "post" and path.count("/") == 3 and "inventory" not in path:
            assert success == {"201"}, path  # POST /api/v1/<resources> creates
        if method == "delete":
            assert success == {"204"}, path
        assert op.get("security"), (method, path)  # Swagger UI's "Authorize" applies


async def test_money_times_and_ids_are_documented_as_strings(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    order = schemas["OrderOut"]["properties"]
    assert order["total"]["type"] == "string" and order["total"]["pattern"]
    assert order["created_at"] == {**order["created_at"], "type": "string", "format": "date-time"}
    assert order["id"]["format"] == "uuid"
    assert schemas["ProductOut"]["properties"]["price"]["type"] == "string"
    assert set(schemas["Page_OrderOut_"]["properties"]) == {"items", "total", "page", "limit", "total_pages"}


_generated: list[Any] = []


def generate_cases(spec: dict[str, Any]) -> list[Any]:
    """A fixed (derandomized) set of requests per operation: schema-valid ones, and ones that break the
    schema on purpose (which must answer 4xx in the documented error shape, never 5xx).

    The document is fetched through the test's own client and loaded with `from_dict`: `from_asgi`
    would serve the app from a second event loop, whose lifespan replaces `app.state.db` with an
    engine bound to that loop (fatal for asyncpg)."""
    if _generated:  # generation is most of the cost: both databases replay the same cases
        return _generated
    schema = schemathesis.openapi.from_dict(spec).include(path_regex=MINE)
    cases = _generated
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in ((GenerationMode.POSITIVE, EXAMPLES_PER_OPERATION),
                               (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES_PER_OPERATION)):

            @hypothesis_settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                cases.append(case)

            collect()
    return cases


def as_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis serialises for `requests`; httpx names a raw body `content`."""
    kwargs = {k: v for k, v in kwargs.items() if k not in ("cookies",)}
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    return kwargs


async def test_property_based_run_finds_no_server_error_and_no_schema_break(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db: Database
) -> None:
    await seed(db, SeedSize(customers=5, products=5, orders=20))  # lists have something to show
    cases = generate_cases((await client.get("/api/v1/openapi.json")).json())
    failures: list[str] = []
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=admin_headers)
        response = await client.request(**as_httpx(kwargs))
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except Exception as exc:  # collect them all: one run shows every broken operation
            failures.append(f"{case.method} {case.formatted_path}: {exc}"[:2000])
    assert len(cases) > 200
    assert not failures, "\n\n".join(failures[:10])
