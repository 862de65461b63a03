"""Documents named instead of sent: automatic persisted queries (Apollo's protocol, as Apollo Client and
urql speak it) and trusted documents (graphql-codegen's, Relay's and Apollo's manifests), over HTTP."""

from __future__ import annotations

import hashlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stateset_gateway.app import create_app
from stateset_gateway.config import ConfigError, Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def fresh_query() -> str:
    """A query no earlier run registered (its hash is new), as an application's build would make."""
    return f"query Me{uuid.uuid4().hex} {{ me {{ kind permissions }} }}"


def with_graphql(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"graphql": settings.graphql.model_copy(update=changes)})


async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client


def hash_only_get(text: str) -> dict[str, str]:
    """What Apollo Client's persisted query link sends with `useGETForHashedQueries`."""
    return {"extensions": json.dumps(persisted(text)), "variables": "{}"}


async def test_apq_round_trip_miss_register_then_hit_over_get(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    text = fresh_query()
    miss = await client.get("/graphql", params=hash_only_get(text), headers=admin_headers)
    assert miss.status_code == 200  # a legacy (application/json) client: request errors answer 200
    assert miss.json()["errors"] == [{"message": "PersistedQueryNotFound", "extensions": {
        "code": "NOT_FOUND", "status": 404, "details": {"sha256Hash": sha256(text)}}}]
    assert "data" not in miss.json()
    assert miss.headers["cache-control"] == "no-store"

    registered = await client.post("/graphql", json={"query": text, "extensions": persisted(text)},
                                   headers=admin_headers)
    assert registered.json()["data"]["me"]["kind"] == "api_key"

    hit = await client.get("/graphql", params=hash_only_get(text), headers=admin_headers)
    assert hit.status_code == 200
    assert hit.json()["data"] == registered.json()["data"]
    assert hit.headers["cache-control"] == "no-store"  # personal and live: no cache keeps it by default
    posted = await client.post("/graphql", json={"extensions": persisted(text)}, headers=admin_headers)
    assert posted.json()["data"] == registered.json()["data"]


async def test_a_miss_under_graphql_response_json_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    miss = await client.post("/graphql", json={"extensions": persisted(fresh_query())},
                             headers={**admin_headers, "Accept": GRAPHQL_RESPONSE})
    assert miss.status_code == 404
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize(("extensions", "field"), [
    ({"persistedQuery": {"version": 1, "sha256Hash": sha256("{ __typename }")}}, "sha256Hash"),
    ({"persistedQuery": {"version": 2, "sha256Hash": sha256("{ me { kind } }")}}, "persistedQuery"),
    ({"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}}, "sha256Hash"),
    ({"persistedQuery": "abc"}, "persistedQuery"),
])
async def test_malformed_or_mismatched_hashes_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], extensions: dict[str, Any], field: str
) -> None:
    response = await client.post("/graphql", json={"query": "{ me { kind } }", "extensions": extensions},
                                 headers=admin_headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert any(key.endswith(field) for key in error["extensions"]["details"]), error


async def test_only_valid_documents_are_registered_and_mutations_stay_post_only(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    broken = "{ me { kind nope } }"
    refused = await client.post("/graphql", json={"query": broken, "extensions": persisted(broken)},
                                headers=admin_headers)
    assert refused.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    later = await client.post("/graphql", json={"extensions": persisted(broken)}, headers=admin_headers)
    assert later.json()["errors"][0]["message"] == "PersistedQueryNotFound"

    mutation = f'mutation {{ createCustomer(input: {{email: "{uuid.uuid4().hex}@example.com", firstName: "A", lastName: "B"}}) {{ id }} }}'
    created = await client.post("/graphql", json={"query": mutation, "extensions": persisted(mutation)},
                                headers=admin_headers)
    assert created.json()["data"]["createCustomer"]["id"]
    over_get = await client.get("/graphql", params=hash_only_get(mutation), headers=admin_headers)
    assert over_get.status_code == 405


async def test_instances_share_persisted_queries_through_redis(settings: Settings, redis_url: str,
                                                               admin_headers: dict[str, str]) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    text = fresh_query()
    one, two = gateway(shared), gateway(shared)
    a, b = await anext(one), await anext(two)
    try:
        assert (await b.post("/graphql", json={"extensions": persisted(text)}, headers=admin_headers)
                ).json()["errors"][0]["message"] == "PersistedQueryNotFound"
        registered = await a.post("/graphql", json={"query": text, "extensions": persisted(text)}, headers=admin_headers)
        hit = await b.get("/graphql", params=hash_only_get(text), headers=admin_headers)
    finally:
        await one.aclose()
        await two.aclose()
    assert hit.json()["data"] == registered.json()["data"] and "kind" in hit.json()["data"]["me"]


async def test_an_unreachable_redis_is_a_miss_and_the_text_still_runs(settings: Settings,
                                                                      admin_headers: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    text = fresh_query()
    async for client in gateway(settings.model_copy(update={"redis_url": closed, "rate_limit": "off"})):
        miss = await client.post("/graphql", json={"extensions": persisted(text)}, headers=admin_headers)
        assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        ran = await client.post("/graphql", json={"query": text, "extensions": persisted(text)}, headers=admin_headers)
        assert ran.json()["data"]["me"]["kind"] == "api_key"


async def test_get_max_age_lets_browsers_keep_successful_queries_privately(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    async for client in gateway(with_graphql(settings, get_max_age=30)):
        fine = await client.get("/graphql", params={"query": "{ me { kind } }"}, headers=admin_headers)
        assert fine.headers["cache-control"] == "private, max-age=30"
        assert set(fine.headers["vary"].split(", ")) >= {"Authorization", "X-API-Key"}
        failed = await client.get("/graphql", params={"query": "{ me { nope } }"}, headers=admin_headers)
        assert failed.headers["cache-control"] == "no-store"
        posted = await client.post("/graphql", json={"query": "{ me { kind } }"}, headers=admin_headers)
        assert "cache-control" not in posted.headers


# --- trusted documents -------------------------------------------------------------------------------

TRUSTED = "query Viewer { me { kind permissions } }"
OTHER = "query Other { me { kind } }"


def codegen_manifest(path: Path) -> Path:
    """What graphql-codegen's client preset writes with `persistedDocuments: true`: hash -> document."""
    path.write_text(json.dumps({sha256(TRUSTED): TRUSTED}))
    return path


def apollo_manifest(path: Path) -> Path:
    """What @apollo/generate-persisted-query-manifest writes."""
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": sha256(TRUSTED), "name": "Viewer", "type": "query", "body": TRUSTED}]}))
    return path


@pytest.fixture(params=[codegen_manifest, apollo_manifest], ids=["codegen", "apollo"])
async def locked(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    manifest = request.param(tmp_path / "persisted-documents.json")
    async for client in gateway(with_graphql(settings, trusted_documents=str(manifest))):
        yield client


async def test_trusted_documents_run_by_id_hash_or_exact_text(
    locked: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    digest = sha256(TRUSTED)
    for request in ({"documentId": digest}, {"documentId": f"sha256:{digest}"},
                    {"extensions": persisted(TRUSTED)}, {"query": TRUSTED}, {"query": f"\n  {TRUSTED}\n"},
                    {"query": TRUSTED, "extensions": persisted(TRUSTED)}):
        response = await locked.post("/graphql", json=request, headers=admin_headers)
        assert response.json()["data"]["me"]["kind"] == "api_key", (request, response.json())
    over_get = await locked.get("/graphql", params={"documentId": digest}, headers=admin_headers)
    assert over_get.json()["data"]["me"]["kind"] == "api_key"


async def test_anything_else_is_refused_before_it_runs(locked: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Accept": GRAPHQL_RESPONSE}
    for request in ({"query": OTHER}, {"query": OTHER, "extensions": persisted(OTHER)}, {"documentId": sha256(OTHER)}):
        response = await locked.post("/graphql", json=request, headers=headers)
        assert response.status_code == 400, request
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert error["message"].startswith("Operation not trusted")
        assert "data" not in response.json()
    # Apollo Client's first request: the hash alone. A miss, so that it sends the text (then refused).
    miss = await locked.post("/graphql", json={"extensions": persisted(OTHER)}, headers=headers)
    assert miss.status_code == 404 and miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    legacy = await locked.post("/graphql", json={"query": OTHER}, headers=admin_headers)
    assert legacy.status_code == 200 and legacy.json()["errors"][0]["message"].startswith("Operation not trusted")


async def test_a_missing_or_malformed_manifest_stops_start_up_naming_the_key(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"trusted_documents .*does not exist"):
        create_app(with_graphql(settings, trusted_documents=str(tmp_path / "missing.json")))
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must map each hash to its document"):
        create_app(with_graphql(settings, trusted_documents=str(tmp_path / "list.json")))


def test_cli_trust_adds_documents_keeping_the_manifests_format(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stateset_gateway.cli import app
    from stateset_gateway.schema.persisted import read_manifest

    (tmp_path / "viewer.graphql").write_text(TRUSTED + "\n")
    (tmp_path / "other.graphql").write_text(OTHER)
    (tmp_path / "broken.graphql").write_text("{ me { nope } }")
    runner = CliRunner()
    for make in (codegen_manifest, apollo_manifest):
        manifest = make(tmp_path / f"{make.__name__}.json")
        result = runner.invoke(app, ["graphql", "trust", str(tmp_path / "viewer.graphql"),
                                     str(tmp_path / "other.graphql"), "--manifest", str(manifest)])
        assert result.exit_code == 0, result.output
        assert "1 added" in result.output and f"sha256:{sha256(OTHER)}" in result.output
        assert read_manifest(manifest) == {sha256(TRUSTED): TRUSTED, sha256(OTHER): OTHER}
        assert ("operations" in json.loads(manifest.read_text())) == (make is apollo_manifest)
        refused = runner.invoke(app, ["graphql", "trust", str(tmp_path / "broken.graphql"), "--manifest", str(manifest)])
        assert refused.exit_code == 2 and "Cannot query field 'nope'" in refused.output
    made = tmp_path / "new.json"
    assert runner.invoke(app, ["graphql", "trust", str(tmp_path / "other.graphql"), "--manifest", str(made)]).exit_code == 0
    assert read_manifest(made) == {sha256(OTHER): OTHER}
