"""Verified API keys are answered from memory, and a revoked, expired or demoted key still stops
working within a second on every instance: two gateways on one database and one Redis, one of them
a real server process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from stateset_gateway.app import create_app
from stateset_gateway.auth import users
from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.auth.authenticate import principal_for_user
from stateset_gateway.auth.key_cache import TRUST_SECONDS
from stateset_gateway.config import load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import ApiKey
from stateset_gateway.db.types import utcnow
from tests.support.statements import StatementLog

ORDERS = "/api/v1/orders"
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


@asynccontextmanager
async def instance(database_url: str, redis_url: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of its own (its own key cache, its own Redis connections) on the test database."""
    app = create_app(load_settings(database_url=database_url, redis_url=redis_url, rate_limit="off",
                                   graphql={"cost_budget": "off"}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def until_listening(client: httpx.AsyncClient) -> None:
    keys = client.app.state.keys  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while time.monotonic() - keys.heard_until >= TRUST_SECONDS or keys.listening_since == float("inf"):
        assert time.monotonic() < deadline, "the instance never subscribed to API key changes"
        await asyncio.sleep(0.02)


def key_lookups(statements: list[str]) -> list[str]:
    return [s for s in statements if "api_keys" in s]


async def refused_by(client: httpx.AsyncClient, headers: dict[str, str], changed_at: float) -> httpx.Response:
    """Poll until the key is refused. Every request that still got through started less than
    TRUST_SECONDS after the change (the guarantee); the refusal is answered."""
    deadline = changed_at + 10
    while True:
        started = time.monotonic()
        response = await client.get(ORDERS, headers=headers)
        if response.status_code != 200:
            return response
        assert started - changed_at < TRUST_SECONDS, "the key was still accepted a second after the change"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_a_verified_key_costs_no_query_per_request(database_url: str, db: Database, redis_url: str) -> None:
    issued = await create_api_key(db, name="busy", permissions=["orders:read"])
    headers = {"X-API-Key": issued.key}
    async with instance(database_url, redis_url) as client:
        await until_listening(client)
        sql = StatementLog(client.app.state.db)  # type: ignore[attr-defined]
        with sql.recording() as first:
            assert (await client.get(ORDERS, headers=headers)).status_code == 200
        assert key_lookups(first)  # the lookup (and the first use's last_used_at)
        with sql.recording() as later:
            for _ in range(20):
                assert (await client.get(ORDERS, headers=headers)).status_code == 200
        assert key_lookups(later) == []
        assert not [s for s in later if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


async def test_without_redis_a_key_is_looked_up_at_most_once_a_second(database_url: str, db: Database) -> None:
    issued = await create_api_key(db, name="busy", permissions=["orders:read"])
    headers = {"X-API-Key": issued.key}
    async with instance(database_url) as client:
        sql = StatementLog(client.app.state.db)  # type: ignore[attr-defined]
        assert (await client.get(ORDERS, headers=headers)).status_code == 200
        with sql.recording() as statements:
            started = time.monotonic()
            assert (await client.get(ORDERS, headers=headers)).status_code == 200
        if time.monotonic() - started < TRUST_SECONDS:
            assert key_lookups(statements) == []


@pytest.fixture
def server(database_url: str, redis_url: str) -> Iterator[str]:
    """`stateset-cli serve`'s app in a uvicorn process of its own, with Redis: another instance."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP__")}
    env.update(APP__DATABASE_URL=database_url, APP__REDIS_URL=redis_url, APP__RATE_LIMIT="off",
               APP__GRAPHQL__COST_BUDGET="off", APP__LOGGING__LEVEL="WARNING",
               APP_CONFIG_DIR=str(Path(__file__).parents[1] / "no-config"))
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "stateset_gateway.app:create_served_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_a_key_revoked_on_one_instance_is_refused_by_another_within_a_second(
    server: str, database_url: str, db: Database, redis_url: str,
) -> None:
    admin = {"X-API-Key": (await create_api_key(db, name="admin", permissions=["admin:*"])).key}
    issued = await create_api_key(db, name="shared", permissions=["orders:read"])
    headers = {"X-API-Key": issued.key}
    async with instance(database_url, redis_url) as b, httpx.AsyncClient(base_url=server, timeout=30) as a:
        await until_listening(b)
        assert (await a.get(ORDERS, headers=headers)).status_code == 200
        assert (await b.get(ORDERS, headers=headers)).status_code == 200
        await asyncio.sleep(TRUST_SECONDS)  # past what B would trust without hearing the other instances
        await until_listening(b)
        sql = StatementLog(b.app.state.db)  # type: ignore[attr-defined]
        with sql.recording() as statements:
            assert (await b.get(ORDERS, headers=headers)).status_code == 200
        assert key_lookups(statements) == []  # still trusted: only an announcement can stop it now

        revoked = await a.delete(f"/api/v1/auth/api-keys/{issued.record.id}", headers=admin)
        assert revoked.status_code == 204
        refusal = await refused_by(b, headers, time.monotonic())
        assert refusal.status_code == 401
        assert refusal.json()["error"]["code"] == "INVALID_API_KEY"
        assert (await a.get(ORDERS, headers=headers)).status_code == 401


async def test_a_role_change_reaches_the_owners_keys_on_every_instance(
    server: str, database_url: str, db: Database, redis_url: str,
) -> None:
    owner = await users.register(db, "keyowner@example.com", "SecurePass123!", role="manager")
    issued = await create_api_key(db, name="ops", permissions=["orders:*"], created_by=principal_for_user(owner))
    headers = {"X-API-Key": issued.key}
    async with instance(database_url, redis_url) as b, httpx.AsyncClient(base_url=server, timeout=30) as a:
        await until_listening(b)
        for gateway in (a, b):
            assert (await gateway.get("/api/v1/customers", headers=headers)).status_code == 403
            assert (await gateway.post(ORDERS, json={}, headers=headers)).status_code != 403
        # The operator's command, from a process of its own: it announces the change through Redis.
        env = {**os.environ, "APP__DATABASE_URL": database_url, "APP__REDIS_URL": redis_url}
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "stateset_gateway.cli", "auth", "users", "set-role",
                             "keyowner@example.com", "readonly"], env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        changed = time.monotonic()
        for gateway in (a, b):
            while (await gateway.post(ORDERS, json={}, headers=headers)).status_code != 403:
                assert time.monotonic() - changed < TRUST_SECONDS
                await asyncio.sleep(0.02)
            assert (await gateway.get(ORDERS, headers=headers)).status_code == 200  # orders:read is kept


async def test_revoking_on_the_only_instance_takes_effect_at_once(database_url: str, db: Database) -> None:
    admin = {"X-API-Key": (await create_api_key(db, name="admin", permissions=["admin:*"])).key}
    issued = await create_api_key(db, name="doomed", permissions=["orders:read"])
    headers = {"X-API-Key": issued.key}
    async with instance(database_url) as client:
        assert (await client.get(ORDERS, headers=headers)).status_code == 200
        assert (await client.delete(f"/api/v1/auth/api-keys/{issued.record.id}", headers=admin)).status_code == 204
        refused = await client.get(ORDERS, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("redis", [None, UNREACHABLE_REDIS], ids=["without-redis", "redis-down"])
async def test_a_change_no_instance_hears_of_still_takes_effect_within_a_second(
    database_url: str, db: Database, redis: str | None,
) -> None:
    """Revoked behind the operations' back (SQL), so no announcement: what a lost message would be.
    Without Redis, or with the subscription down, a cached key is never trusted past a second."""
    issued = await create_api_key(db, name="quiet", permissions=["orders:read"])
    headers = {"X-API-Key": issued.key}
    async with instance(database_url, redis) as client:
        assert (await client.get(ORDERS, headers=headers)).status_code == 200
        async with db.writer() as session:
            await session.execute(update(ApiKey).where(ApiKey.id == issued.record.id).values(revoked_at=utcnow()))
        refusal = await refused_by(client, headers, time.monotonic())
        assert refusal.json()["error"]["code"] == "INVALID_API_KEY"


async def test_a_cached_key_is_never_served_past_its_expiry(database_url: str, db: Database, redis_url: str) -> None:
    expires_at = utcnow() + timedelta(seconds=3)
    issued = await create_api_key(db, name="brief", permissions=["orders:read"], expires_at=expires_at)
    headers = {"X-API-Key": issued.key}
    async with instance(database_url, redis_url) as client:
        await until_listening(client)
        assert (await client.get(ORDERS, headers=headers)).status_code == 200
        await asyncio.sleep(max(0.0, (expires_at - utcnow()).total_seconds()))
        refused = await client.get(ORDERS, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "API key has expired"


def test_the_memory_of_keys_is_bounded_by_its_share_of_the_cache(settings: Any) -> None:
    from stateset_gateway.caches import MB, SHARES

    app = create_app(settings.model_copy(update={"cache": settings.cache.model_copy(update={"max_size_mb": 1})}))
    assert app.state.keys.entries.max_bytes == int(MB * SHARES["api_keys"])
