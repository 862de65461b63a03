"""Readiness on a database whose migrations are pending: 503 SERVICE_UNAVAILABLE naming them, as
long as every request there would fail on missing tables, and 200 as soon as `migrate up` has run,
without a restart. PostgreSQL is never migrated by `serve` (auto_migrate is off there), so this is
what an operator who forgot `stateset-cli migrate up` sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from stateset_gateway.app import create_app
from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from tests.support import services
from tests.support.databases import fresh_database


@pytest.fixture(params=services.backends())
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


async def readiness(app: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/health/readiness")


def assert_not_ready(response: httpx.Response, pending: list[str]) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == ("SERVICE_UNAVAILABLE", 503)
    assert error["details"] == {"checks": {"database": "migrations pending"}, "pending_migrations": pending}
    assert f"migration(s) {', '.join(pending)} pending" in error["message"]
    assert "stateset-cli migrate up" in error["message"]


async def test_readiness_names_pending_migrations_until_they_are_applied(fresh_url: str) -> None:
    *applied, last = migrate.revisions()
    app = create_app(load_settings(database_url=fresh_url))
    db = Database(load_settings(database_url=fresh_url))
    try:
        async with app.router.lifespan_context(app):
            assert_not_ready(await readiness(app), [*applied, last])  # never migrated
            await migrate.upgrade(db.write_engine, applied[-1])
            assert_not_ready(await readiness(app), [last])  # one migration behind
            await migrate.upgrade(db.write_engine)
            ready = await readiness(app)  # at once: a schema behind is looked at on every probe
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
    finally:
        await db.dispose()


async def test_a_revision_this_version_does_not_know_is_not_ready(fresh_url: str) -> None:
    db = Database(load_settings(database_url=fresh_url))
    try:
        await migrate.upgrade(db.write_engine)
        async with db.write_engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        app = create_app(load_settings(database_url=fresh_url))
        async with app.router.lifespan_context(app):
            response = await readiness(app)
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE" and "'9999'" in error["message"]
        assert error["details"] == {"checks": {"database": "unknown revision"}}
    finally:
        await db.dispose()
