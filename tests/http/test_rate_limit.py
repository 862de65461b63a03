"""The request rate limit as CONTRACT section 6 describes it: per API key, else user, else client IP,
with X-RateLimit-* headers on every limited response and 429 RATE_LIMIT_EXCEEDED + Retry-After."""

from __future__ import annotations

import math
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stateset_gateway.app import create_app
from stateset_gateway.config import ConfigError, Settings, load_settings
from stateset_gateway.db.engine import Database
from tests.support.auth import AuthHeaders

LIST_ORDERS = "/api/v1/orders"


TYPENAME = {"query": "{ __typename }"}


class Gateway(httpx.AsyncClient):
    """A client of one gateway, from 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.app = app


async def seen(headers: dict[str, str], *gateways: Gateway) -> dict[str, str]:
    """Headers of a key each gateway has already seen authenticate: only those get a budget of their
    own (a key's first request counts against its caller's address). Each gateway sees it from an
    address of its own, so no test's budget pays for it."""
    for gateway in gateways:
        elsewhere = httpx.ASGITransport(app=gateway.app, client=(f"warm-up-{uuid.uuid4().hex}", 1))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
            assert (await other.get(LIST_ORDERS, headers=headers)).status_code == 200
    return headers


async def _client(settings: Settings) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with Gateway(app) as c:
            yield c


@pytest.fixture
async def limited(database_url: str, db: Database) -> AsyncIterator[Gateway]:
    """A gateway allowing 3 requests a minute per client."""
    async for client in _client(load_settings(database_url=database_url, rate_limit="3/minute")):
        yield client


async def test_requests_count_down_then_answer_429_with_retry_after(
    limited: Gateway, auth_headers: AuthHeaders
) -> None:
    headers = await seen(await auth_headers(["orders:read"]), limited)
    before = time.time()
    answered = [await limited.get(LIST_ORDERS, headers=headers) for _ in range(3)]
    after = time.time()
    assert [r.status_code for r in answered] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in answered] == ["2", "1", "0"]
    assert {r.headers["x-ratelimit-limit"] for r in answered} == {"3"}
    reset = int(answered[0].headers["x-ratelimit-reset"])
    assert before < reset <= math.ceil(after + 60)  # the end of the minute, in whole seconds

    refused = await limited.get(LIST_ORDERS, headers=headers)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED" and error["request_id"] == refused.headers["x-request-id"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str(reset)


async def test_graphql_and_rest_share_one_budget_per_client_and_clients_are_apart(
    limited: Gateway, auth_headers: AuthHeaders
) -> None:
    first = await seen(await auth_headers(["orders:read"]), limited)
    second = await seen(await auth_headers(["orders:read"]), limited)
    for _ in range(2):
        assert (await limited.post("/graphql", json=TYPENAME, headers=first)).status_code == 200
    assert (await limited.get(LIST_ORDERS, headers=first)).status_code == 200
    limited_graphql = await limited.post("/graphql", json=TYPENAME, headers=first)
    assert limited_graphql.status_code == 429
    assert limited_graphql.json()["errors"][0]["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"

    other_key = await limited.get(LIST_ORDERS, headers=second)
    anonymous = await limited.post("/graphql", json=TYPENAME)  # no credentials: its client address
    assert other_key.status_code == 200 and other_key.headers["x-ratelimit-remaining"] == "2"
    assert anonymous.status_code == 200 and anonymous.headers["x-ratelimit-remaining"] == "2"


async def test_a_key_not_yet_seen_to_authenticate_counts_against_the_address(
    limited: Gateway, auth_headers: AuthHeaders
) -> None:
    made_up = [{"X-API-Key": f"sk_{'x' * 40}{i}"} for i in range(3)]
    real = await auth_headers(["orders:read"])
    statuses = [(await limited.post("/graphql", json=TYPENAME, headers=h)).status_code for h in made_up]
    first_use = await limited.get(LIST_ORDERS, headers=real)  # the address's 4th request
    assert statuses == [200, 200, 200] and first_use.status_code == 429
    assert first_use.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


async def test_a_users_tokens_share_the_users_budget(limited: Gateway) -> None:
    account = {"email": "limited@example.com", "password": "correct horse"}
    registered = await limited.post("/api/v1/auth/register", json=account)
    signed_in = await limited.post("/api/v1/auth/login", json=account)
    assert registered.status_code == 201 and signed_in.status_code == 200
    tokens = [registered.json()["data"]["access_token"], signed_in.json()["data"]["access_token"]]
    assert tokens[0] != tokens[1]
    statuses = [(await limited.post("/graphql", json=TYPENAME,
                                    headers={"Authorization": f"Bearer {tokens[i % 2]}"})).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_operations_endpoints_are_never_limited(limited: Gateway) -> None:
    for _ in range(5):
        for path in ("/health", "/health/readiness", "/metrics"):
            response = await limited.get(path)
            assert response.status_code == 200 and "x-ratelimit-limit" not in response.headers


async def test_the_ide_pages_files_are_never_limited(limited: Gateway) -> None:
    """Opening GraphiQL loads several scripts; none of them spends the developer's budget."""
    from stateset_gateway.ide.assets import manifest

    urls = [asset.url for files in manifest().values() for asset in files.values()]
    for url in urls[:6] * 2:
        response = await limited.get(url)
        assert response.status_code == 200 and "x-ratelimit-limit" not in response.headers, url


async def test_instances_share_counters_through_redis(
    database_url: str, redis_url: str, db: Database, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(["orders:read"])  # a fresh key: no counter from an earlier run
    settings = load_settings(database_url=database_url, redis_url=redis_url, rate_limit="3/minute")
    one, two = _client(settings), _client(settings)
    a, b = await anext(one), await anext(two)
    try:
        await seen(headers, a, b)
        statuses = [(await client.get(LIST_ORDERS, headers=headers)).status_code for client in (a, b, a, b)]
    finally:
        await one.aclose()
        await two.aclose()
    assert statuses == [200, 200, 200, 429]


async def test_an_unreachable_counter_store_lets_requests_through(database_url: str, db: Database) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    settings = load_settings(database_url=database_url, redis_url=closed, rate_limit="1/minute")
    async for client in _client(settings):
        statuses = [(await client.post("/graphql", json=TYPENAME)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]


async def test_off_turns_the_limit_off(database_url: str, db: Database) -> None:
    async for client in _client(load_settings(database_url=database_url, rate_limit="off")):
        response = await client.post("/graphql", json=TYPENAME)
        assert response.status_code == 200 and "x-ratelimit-limit" not in response.headers


def test_a_malformed_limit_is_refused_at_start_naming_the_variable(monkeypatch: Any) -> None:
    monkeypatch.setenv("APP__RATE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="APP__RATE_LIMIT"):
        load_settings()


async def test_errors_rendered_outside_the_limit_still_carry_its_headers_and_cors(
    database_url: str, db: Database, auth_headers: AuthHeaders
) -> None:
    settings = load_settings(database_url=database_url, rate_limit="2/minute",
                             server={"cors_origins": ["https://shop.example"]})
    origin = {"Origin": "https://shop.example"}
    async for client in _client(settings):
        wrong_method = await client.put("/graphql", json=TYPENAME, headers=origin)
        assert wrong_method.status_code == 405 and wrong_method.headers["x-ratelimit-remaining"] == "1"
        await client.post("/graphql", json=TYPENAME, headers=origin)
        refused = await client.post("/graphql", json=TYPENAME, headers=origin)
        assert refused.status_code == 429
        assert refused.headers["access-control-allow-origin"] == "https://shop.example"
        assert refused.headers["x-ratelimit-limit"] == "2" and "retry-after" in refused.headers


# --- the GraphQL cost budget: computed cost spent per client and window ----------------------------

ORDERS_PAGE = {"query": "{ orders(first: 10) { nodes { id customer { id } } } }"}


async def test_graphql_operations_spend_their_cost_from_the_clients_budget(
    database_url: str, db: Database, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(["orders:read", "customers:read"])
    async for probe in _client(load_settings(database_url=database_url, graphql={"cost_budget": "off"})):
        cost = (await probe.post("/graphql", json=ORDERS_PAGE, headers=headers)).json()["extensions"]["cost"]
        assert "budget" not in cost  # off: nothing is counted
    per_operation = cost["requestedQueryCost"]
    budget = f"{per_operation * 2 + per_operation // 2}/minute"  # room for two such operations, not three
    settings = load_settings(database_url=database_url, rate_limit="off", graphql={"cost_budget": budget})
    async for client in _client(settings):
        await seen(headers, client)
        spent = [await client.post("/graphql", json=ORDERS_PAGE, headers=headers) for _ in range(2)]
        assert [r.json()["extensions"]["cost"]["budget"]["remaining"] for r in spent] == [
            per_operation + per_operation // 2, per_operation // 2]
        refused = await client.post("/graphql", json=ORDERS_PAGE, headers=headers)
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
        body = refused.json()
        assert "data" not in body and body["errors"][0]["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert body["errors"][0]["extensions"]["details"]["cost"] == per_operation
        free = await client.post("/graphql", json=TYPENAME, headers=headers)  # costs nothing: always runs
        assert free.status_code == 200 and free.json()["data"] == {"__typename": "Query"}


def test_a_malformed_cost_budget_is_refused_at_start(monkeypatch: Any) -> None:
    monkeypatch.setenv("APP__GRAPHQL__COST_BUDGET", "plenty")
    with pytest.raises(ConfigError, match="APP__GRAPHQL__COST_BUDGET"):
        load_settings()