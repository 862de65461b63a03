"""PostgreSQL's pooled connections: pinged before use only once they have rested, and replaced when
the server has dropped them, so the gateway recovers by itself (docs/TROUBLESHOOTING.md)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from stateset_gateway import errors
from stateset_gateway.db.engine import RESTED_SECONDS, Database
from stateset_gateway.db.errors import to_domain_error

pytestmark = pytest.mark.usefixtures("db")


async def _admin(db: Database) -> asyncpg.Connection:
    return await asyncpg.connect(db.settings.database_url.replace("postgresql+asyncpg", "postgresql"))


async def _last_statement_at_check_out(db: Database) -> tuple[int, str]:
    """The pid of the connection a read checks out, and the last statement its server backend ran,
    read before this read sends anything: `;` if the check-out pinged it."""
    async with db.engine.connect() as connection:
        pid = (await connection.get_raw_connection()).driver_connection.get_server_pid()
        admin = await _admin(db)
        try:
            last = await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        finally:
            await admin.close()
        await connection.execute(text("SELECT 'read'"))
    return pid, last


async def _terminate(db: Database, pid: int) -> None:
    """Drop one of this pool's connections from the server's side, as a restart would."""
    admin = await _admin(db)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def _read(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(text("SELECT 1"))).scalar_one())


async def test_a_connection_returned_a_moment_ago_is_not_pinged_and_a_rested_one_is(db: Database,
                                                                                     backend: str) -> None:
    if backend != "postgresql":  # SQLite's connections are files: nothing to ping
        assert await _read(db) == 1
        return
    pid, _ = await _last_statement_at_check_out(db)
    assert await _last_statement_at_check_out(db) == (pid, "SELECT 'read'")  # at once: not pinged
    await asyncio.sleep(RESTED_SECONDS + 0.2)
    assert await _last_statement_at_check_out(db) == (pid, ";")  # rested: pinged, the same connection


async def test_connections_the_server_dropped_are_replaced(db: Database, backend: str) -> None:
    if backend != "postgresql":
        assert await _read(db) == 1
        return
    pid, _ = await _last_statement_at_check_out(db)
    await _terminate(db, pid)
    await asyncio.sleep(RESTED_SECONDS + 0.2)
    assert await _read(db) == 1  # rested: the ping finds it dead and the pool connects anew
    pid, _ = await _last_statement_at_check_out(db)
    await _terminate(db, pid)
    try:  # at once: the connection is not pinged, so this read is the one that finds it dead
        await _read(db)
    except Exception as exc:  # noqa: BLE001 - what the client would get
        assert isinstance(to_domain_error(exc), errors.ServiceUnavailable), exc
    assert await _read(db) == 1  # and the next one has a new connection
