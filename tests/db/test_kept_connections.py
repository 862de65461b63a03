"""Read connections kept between requests (db/kept.py): the next reader gets the last one without a
check-out or a ping; one that rested a second goes back to the pool, which pings it; a writer never
waits for a kept connection nobody uses; and once the server drops connections, the kept ones are
not lent again."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

from stateset_gateway import errors
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.errors import to_domain_error
from stateset_gateway.db.kept import RESTED_SECONDS
from stateset_gateway.db.models import Product
from stateset_gateway.resolvers import loaders

pytestmark = pytest.mark.usefixtures("db")  # the tables are emptied after each test


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[Database]:
    """A database handle with a pool of two and a two-second wait for a connection."""
    database = Database(settings.model_copy(update={"database": settings.database.model_copy(
        update={"max_connections": 2, "connect_timeout": 2})}))
    yield database
    await database.dispose()


async def _keeps_nothing(db: Database) -> bool:
    """SQLite: its reads are transactions on a file (a kept one would hold a snapshot); none is kept."""
    async with db.request_reads():
        assert await loaders.products(db, [uuid.uuid4()]) == [None]
    return db.kind == "sqlite" and not db.kept.idle


async def _request_reads(db: Database) -> int:
    """One request's reads (a batch load through the read path); the server pid that ran them."""
    async with db.request_reads():
        await loaders.products(db, [uuid.uuid4()])
        async with db.read() as connection:
            return (await connection.get_raw_connection()).driver_connection.get_server_pid()  # type: ignore[no-any-return]


async def _slow_reads(db: Database) -> int:
    """A request whose read (through SQLAlchemy) takes a tenth of a second; its server pid."""
    async with db.request_reads():
        async with db.read() as connection:
            await connection.exec_driver_sql("SELECT pg_sleep(0.1)")
            return (await connection.get_raw_connection()).driver_connection.get_server_pid()  # type: ignore[no-any-return]


async def _last_statement(db: Database, pid: int) -> str:
    admin = await asyncpg.connect(db.settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return str(await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await admin.close()


async def test_the_next_reader_gets_the_kept_connection_and_a_rested_one_goes_back_to_be_pinged(
    small: Database,
) -> None:
    if small.kind == "sqlite":
        assert await _keeps_nothing(small)
        return
    pid = await _request_reads(small)
    pool = small.engine.sync_engine.pool
    assert pool.checkedout() == 1 and len(small.kept.idle) == 1  # kept, not returned
    assert await _request_reads(small) == pid
    assert "products" in await _last_statement(small, pid)  # lent as it was: no ping between
    await asyncio.sleep(RESTED_SECONDS * 2 + 0.2)  # the reaper runs every second
    assert pool.checkedout() == 0 and not small.kept.idle  # an idle gateway holds none
    async with small.engine.connect() as connection:  # the pool's next check-out pings it (`;`)
        assert (await connection.get_raw_connection()).driver_connection.get_server_pid() == pid
        assert await _last_statement(small, pid) == ";"


async def test_concurrent_readers_take_a_connection_each_and_a_writer_does_not_wait_for_them(
    small: Database,
) -> None:
    if small.kind == "sqlite":
        assert await _keeps_nothing(small)
        return
    pids = await asyncio.gather(_slow_reads(small), _slow_reads(small))
    assert len(set(pids)) == 2 and len(small.kept.idle) == 2  # the whole pool is kept
    async with asyncio.timeout(1):  # well inside the pool's two-second wait
        async with small.writer() as session:
            session.add(Product(sku="KEPT-1", name="kept", price=Decimal("1.00")))
    assert len(small.kept.idle) == 1  # one was given back to make room for it
    async with small.reader() as session:
        assert (await session.execute(text("SELECT count(*) FROM products WHERE sku = 'KEPT-1'"))).scalar_one() == 1


async def test_kept_connections_are_not_lent_once_the_server_has_dropped_connections(small: Database) -> None:
    if small.kind == "sqlite":
        assert await _keeps_nothing(small)
        return
    pids = await asyncio.gather(_slow_reads(small), _slow_reads(small))
    admin = await asyncpg.connect(small.settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for pid in pids:  # as a server restart would
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    try:  # the newest kept connection is lent, and this read is the one that finds it dead
        await _request_reads(small)
    except Exception as exc:  # noqa: BLE001 - what the client would get
        assert isinstance(to_domain_error(exc), errors.ServiceUnavailable), exc
    # the other kept one is dead too, but is not lent: the pool replaces it
    assert await _request_reads(small) not in pids
