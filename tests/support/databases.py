"""Fresh, empty (unmigrated) databases for tests that own a schema's whole life: migrations, the CLI.

The session-wide `database_url` fixture hands out one migrated database per kind; walking migrations
down to base or letting the CLI migrate and seed would disturb every other test using it, so these
tests get their own database: a temp SQLite file, or a PostgreSQL database created and dropped here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.support import services


def pg_url_for(name: str) -> str:
    """The admin URL pointed at database `name` (same host, port and user)."""
    return f"{services.POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


@asynccontextmanager
async def fresh_database(kind: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database of `kind` ("sqlite" or "postgresql"); drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"stateset_fresh_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(services.POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield pg_url_for(name)
    finally:
        admin = await asyncpg.connect(services.POSTGRES_ADMIN_URL, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
