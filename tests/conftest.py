"""Fixtures: every database test runs on SQLite and on PostgreSQL (a fresh database per run)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from stateset_gateway.app import create_app
from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import metadata
from tests.support import services
from tests.support.auth import AuthHeaders
from tests.support.databases import fresh_database
from tests.support.graphql_client import DifferentialTransport
from tests.support.rest_api import Api
from tests.support.statements import StatementLog

# Tests must never read a developer's config/ files or environment overrides.
os.environ["APP_CONFIG_DIR"] = str(Path(__file__).parent / "no-config")
for _key in [k for k in os.environ if k.startswith("APP__")]:
    del os.environ[_key]
os.environ["APP__LOGGING__FILE"] = "off"  # in-process apps write no logs/stateset.log into the checkout


@pytest.fixture(scope="session", params=services.backends())
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A migrated, empty database of each kind, made once per run (fails loudly when PostgreSQL is
    required but down)."""
    async with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        db = Database(load_settings(database_url=url))
        await migrate.upgrade(db.write_engine)
        await db.dispose()
        yield url


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url)


async def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    # DELETE, not TRUNCATE: on tables this small it is ~20x faster on PostgreSQL (no file work).
    async with db.write_engine.begin() as conn:
        for table in tables:
            await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The test's database handle; every table is emptied after the test."""
    database = Database(settings)
    yield database
    await _truncate(database)
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def sql(app: Any) -> StatementLog:
    """`with sql.recording() as statements:` every SQL statement the app runs inside the block."""
    return StatementLog(app.state.db)


@pytest.fixture
async def reference_app(settings: Settings, db: Database) -> AsyncIterator[Any]:
    """The same gateway on the same database, executing every operation with graphql-core."""
    graphql = settings.graphql.model_copy(update={"executor": "reference"})
    application = create_app(settings.model_copy(update={"graphql": graphql}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def differential(app: Any, reference_app: Any) -> DifferentialTransport:
    return DifferentialTransport(app, reference_app)


@pytest.fixture
async def differential_client(differential: DifferentialTransport) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every GraphQL query is answered by the planned executor and checked against
    graphql-core's answer to the same request (DifferentialTransport). The conftest of each folder
    whose tests read through GraphQL (graphql/, auth/, resolvers/) makes it their `client`."""
    async with httpx.AsyncClient(transport=differential, base_url="http://testserver") as c:
        yield c



@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if not services.redis_available():
        pytest.skip("Redis is not running here (required in CI)")
    yield services.REDIS_URL



# --- auth: headers for calling protected routes -------------------------------------------------



@pytest.fixture
def auth_headers(db: Database) -> AuthHeaders:
    """`await auth_headers(["orders:read"])` -> {"X-API-Key": "sk_..."}: a fresh API key in the test
    database holding exactly those permissions (use `[]`-free lists; "admin:*" and "orders:*" work)."""
    from stateset_gateway.auth.api_keys import create_api_key

    async def make(permissions: list[str]) -> dict[str, str]:
        issued = await create_api_key(db, name=f"test {','.join(permissions)}", permissions=permissions)
        return {"X-API-Key": issued.key}

    return make


@pytest.fixture
async def admin_headers(auth_headers: AuthHeaders) -> dict[str, str]:
    """Headers of an `admin:*` API key: everything is allowed."""
    return await auth_headers(["admin:*"])


@pytest.fixture
async def api(client: httpx.AsyncClient, admin_headers: dict[str, str], db: Database) -> Api:
    """REST /api/v1 as an admin API key."""
    return Api(client, admin_headers, db)
