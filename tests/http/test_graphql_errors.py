"""Every answer on /graphql is a GraphQL response, whichever layer refuses the request: `{"errors":
[{"message", "extensions": {"code", "status", "details"}}]}` with the error's HTTP status and the
headers of any other answer (X-Request-ID, X-RateLimit-*, Retry-After, Allow). Elsewhere the same
refusals keep the REST payload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.auth import AuthHeaders

TYPENAME = {"query": "{ __typename }"}
CREATE_CUSTOMER = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }"


def graphql_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error of a GraphQL response refused whole with `status`; returns its extensions."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req-")
    body = response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert error["message"] and error["extensions"]["code"] == code and error["extensions"]["status"] == status
    return dict(error["extensions"])


def rest_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = dict(response.json()["error"])
    assert (error["code"], error["status"], error["request_id"]) == (code, status, response.headers["x-request-id"])
    return error


async def slowly(body: bytes, pause: float) -> AsyncIterator[bytes]:
    """A client that sends its body in two parts, `pause` seconds apart."""
    yield body[: len(body) // 2]
    await asyncio.sleep(pause)
    yield body[len(body) // 2:]


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A chunked body of `size` bytes, sent without Content-Length."""
    for _ in range(size // 512):
        yield b" " * 512


@pytest.mark.settings(server={"max_body_bytes": 1024})
async def test_a_body_over_the_limit_is_413_declared_or_streamed(client: httpx.AsyncClient) -> None:
    declared = await client.post("/graphql", content=b'{"query": "{ __typename }"}' + b" " * 2000,
                                 headers={"Content-Type": "application/json"})
    assert "1024" in declared.json()["errors"][0]["message"]
    streamed = await client.post("/graphql", content=chunks(4096), headers={"Content-Type": "application/json"})
    for response in (declared, streamed):
        graphql_error(response, 413, "PAYLOAD_TOO_LARGE")
    rest_error(await client.post("/api/v1/customers", content=chunks(4096)), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.settings(rate_limit="2/minute")
async def test_the_rate_limit_refuses_with_429_and_its_headers(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await client.post("/graphql", json=TYPENAME)).status_code == 200
    refused = await client.post("/graphql", json=TYPENAME, headers={"Accept": "application/graphql-response+json"})
    assert refused.status_code == 429 and refused.headers["content-type"].startswith(
        "application/graphql-response+json")
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60 and error["extensions"]["details"] == {"retry_after": retry_after}
    assert (refused.headers["x-ratelimit-limit"], refused.headers["x-ratelimit-remaining"]) == ("2", "0")
    assert int(refused.headers["x-ratelimit-reset"]) > 0
    graphql_error(await client.post("/graphql", json=TYPENAME), 429, "RATE_LIMIT_EXCEEDED")
    rest_error(await client.get("/api/v1/orders"), 429, "RATE_LIMIT_EXCEEDED")


@pytest.mark.settings(rate_limit="off", graphql={"cost_budget": "30/minute"})
async def test_an_exhausted_cost_budget_is_429_with_retry_after(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    page = {"query": "{ orders(first: 10) { nodes { id customer { id } } } }"}  # costs 21
    # Seen to authenticate first: until then a key's operations are charged to its address.
    assert (await client.get("/api/v1/orders", headers=admin_headers)).status_code == 200
    assert (await client.post("/graphql", json=page, headers=admin_headers)).status_code == 200
    refused = await client.post("/graphql", json=page, headers=admin_headers)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert "data" not in body and body["extensions"]["cost"]["budget"]["remaining"] == 9
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMIT_EXCEEDED" and error["extensions"]["status"] == 429
    assert error["extensions"]["details"] == {"retry_after": int(refused.headers["retry-after"]), "cost": 21,
                                              "remaining": 9}
    cheap = {"query": "{ orders(first: 3) { nodes { id } } }"}  # costs 4: what the refusal left still pays
    assert (await client.post("/graphql", json=cheap, headers=admin_headers)).status_code == 200


async def test_an_idempotency_key_reused_for_another_mutation_is_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "gql-conflict"}

    def create(email: str) -> dict[str, Any]:
        return {"query": CREATE_CUSTOMER, "variables": {"i": {"email": email, "firstName": "A", "lastName": "L"}}}

    assert (await client.post("/graphql", json=create("ada@example.com"), headers=headers)).json()["data"]
    conflict = await client.post("/graphql", json=create("grace@example.com"), headers=headers)
    extensions = graphql_error(conflict, 409, "DUPLICATE_ENTRY")
    assert extensions["details"] == {"field": "Idempotency-Key", "value": "gql-conflict"}


async def test_another_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await client.request(method, "/graphql", json=TYPENAME)
        graphql_error(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET, POST"
    rest_error(await client.put("/health"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.settings(server={"request_timeout": 0.2})
async def test_a_request_over_the_timeout_is_504(client: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename }"}'
    slow = await client.post("/graphql", content=slowly(body, 1.0), headers={"Content-Type": "application/json"})
    assert "0.2s" in slow.json()["errors"][0]["message"]
    graphql_error(slow, 504, "TIMEOUT")
    rest_error(await client.post("/api/v1/customers", content=slowly(body, 1.0),
                                 headers={"Content-Type": "application/json"}), 504, "TIMEOUT")


class _BrokenDatabase:
    """The database object of an app whose database fails in a way nobody anticipated."""

    def writer(self) -> Any:
        raise RuntimeError("connection string postgres://secret@db")

    reader = writer


async def test_a_failure_below_the_endpoint_is_a_masked_500(
    app: Any, client: httpx.AsyncClient, auth_headers: AuthHeaders, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {**await auth_headers(["customers:create"]), "Idempotency-Key": "below-the-endpoint"}
    payload = {"query": CREATE_CUSTOMER, "variables": {"i": {"email": "a@example.com", "firstName": "A",
                                                             "lastName": "L"}}}
    app.state.db = _BrokenDatabase()  # met by the idempotency layer, authenticating the key for its namespace
    response = await client.post("/graphql", json=payload, headers=headers)
    assert response.status_code == 500
    assert "secret" not in response.text
    (error,) = response.json()["errors"]
    assert error == {"message": "An internal error occurred",
                     "extensions": {"code": "INTERNAL_ERROR", "status": 500,
                                    "request_id": response.headers["x-request-id"]}}
    assert any(r.getMessage() == "unhandled exception" for r in caplog.records)
