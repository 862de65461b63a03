"""The engine and sessions for SQLite (embedded default) or PostgreSQL.

SQLite: WAL and a busy timeout so concurrent writers wait instead of failing, foreign keys on, and
write transactions opened with BEGIN IMMEDIATE so two writers never deadlock upgrading a read lock
(that is how concurrent orders never oversell there). PostgreSQL: a bounded pool from `[database]`,
whose connections are pinged before use once they have rested (`_ping_when_rested`), so the gateway
recovers by itself when the server comes back.

Reads within a request share one connection (`Database.request_reads`): taken on the request's
first read, so with at most one liveness check, and given back when the request ends. Sibling loads
that run concurrently take turns on it; each statement is a single round trip, so waiting for the
other costs less than a check-out and a pre-ping of its own would. On PostgreSQL a read connection
given back is kept for the next reader for up to a second rather than returned to the pool
(`db/kept.py`): the check-out and return cost more than a small read's statement.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_

from stateset_gateway.config import Settings
from stateset_gateway.db import codecs
from stateset_gateway.db.kept import IDLE_SINCE, RESTED_SECONDS, KeptConnections


def _json_loads(text: str | bytes) -> Any:
    """JSON columns as orjson reads them, several times faster than the standard library. What the
    gateway stores there (addresses, event snapshots, lists of names) reads the same either way; a
    text orjson refuses (NaN, which the standard library's writer allows on SQLite) is read by the
    standard library as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_engine(settings: Settings, *, immediate: bool) -> AsyncEngine:
    url = settings.sqlalchemy_url
    db = settings.database
    busy_ms = int(db.connect_timeout_seconds * 1000)
    in_memory = url.database in (None, "", ":memory:")
    # The in-memory database lives in one connection; a file gets the same bounded pool `[database]`
    # describes for PostgreSQL (each connection is a thread), so max_connections means the same thing
    # on both and an exhausted pool answers "Timeout acquiring connection from pool" after
    # connect_timeout instead of SQLAlchemy's fixed 5 + 10 connections and 30 s.
    pool_args: dict[str, Any] = {"poolclass": NullPool} if in_memory else {
        "pool_size": db.max_connections,
        "max_overflow": 0,
        "pool_timeout": db.connect_timeout_seconds,
        "pool_recycle": db.idle_timeout,
    }
    engine = create_async_engine(
        url,
        echo=db.echo,
        json_deserializer=_json_loads,
        connect_args={"timeout": db.connect_timeout_seconds},
        **pool_args,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _ping_when_rested(engine: AsyncEngine) -> None:
    """SQLAlchemy's pre-ping, for connections that have rested: a round trip (about a tenth of the
    CPU of a small query) on every check-out bought nothing for a connection returned a moment ago
    by a request that used it. One that rested longer is pinged, and a dead one replaced, as
    `pool_pre_ping` does; a connection that died within the last second fails its request with
    SERVICE_UNAVAILABLE, and SQLAlchemy then replaces every connection of the pool, so the gateway
    still recovers by itself when the database comes back."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested_since(_dbapi_connection: Any, record: Any) -> None:
        kept_since = record.info.pop(IDLE_SINCE, None)  # a kept connection's rest began before its return
        record.info["returned_at"] = time.monotonic() if kept_since is None else kept_since

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_rested(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < RESTED_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool discards it and checks out another (or connects anew)
            raise DisconnectionError(str(exc)) from exc


def _postgres_engine(settings: Settings) -> AsyncEngine:
    db = settings.database
    engine = create_async_engine(
        settings.sqlalchemy_url,
        echo=db.echo,
        pool_size=db.max_connections,
        max_overflow=0,
        pool_timeout=db.connect_timeout_seconds,
        pool_recycle=db.idle_timeout,
        json_deserializer=_json_loads,  # the addresses of every order read are JSON
        # Pooled connections rest in autocommit: a read is then one round trip, not BEGIN + SELECT +
        # ROLLBACK, and the pre-ping is a bare `;` rather than BEGIN/`;`/ROLLBACK. Under READ COMMITTED
        # every statement takes its own snapshot anyway, so a read sees exactly what it saw inside a
        # transaction. Writes get their transaction back through `Database.write_engine`.
        isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True,  # returned to the pool in autocommit: no ROLLBACK to send
        connect_args={
            "timeout": db.connect_timeout_seconds,
            "server_settings": {"lock_timeout": str(db.lock_timeout_ms), "application_name": "stateset-gateway"},
        },
    )
    _ping_when_rested(engine)
    _install_codecs(engine)
    return engine


def _install_codecs(engine: AsyncEngine) -> None:
    """The cheaper codecs for amounts and timestamps (`db.codecs`) on each new connection, after the
    dialect's own (JSON) are in place."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        await_(codecs.install(dialect.get_driver_connection(dbapi_connection)))


class _RequestReads:
    """One request's read connection, opened on its first read. Turns are taken per block: a task
    inside a block may open another (a read helper calling another) without waiting for itself."""

    __slots__ = ("database", "connection", "lock", "holder")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connection: AsyncConnection | None = None
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[AsyncConnection]:
        task = asyncio.current_task()
        if self.holder is task and self.connection is not None:
            yield self.connection
            return
        async with self.lock:
            self.holder = task
            try:
                if self.connection is None:
                    self.connection = await self.database.kept.take()
                yield self.connection
            finally:
                self.holder = None

    async def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await self.database.kept.keep(connection)


_request_reads: ContextVar[_RequestReads | None] = ContextVar("request_reads", default=None)


class Database:
    """Engines plus session factories. `reader()` for queries, `writer()` for operations that change data."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kind = settings.database_kind
        if self.kind == "sqlite":
            self.engine = _sqlite_engine(settings, immediate=False)
            self.write_engine = _sqlite_engine(settings, immediate=True)
        else:
            self.engine = _postgres_engine(settings)
            # The same pool; each checked-out connection switches to READ COMMITTED transactions
            # (no round trip) and back to autocommit when returned.
            self.write_engine = self.engine.execution_options(isolation_level="READ COMMITTED")
        self.kept = KeptConnections(self.engine, enabled=self.kind == "postgresql")
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def request_reads(self) -> AsyncIterator[None]:
        """Within this block (and the tasks it starts), `read()` and `reader()` share one connection,
        checked out on the first read and returned at the end. For a request that only reads: a
        write (`writer()`) still has its own connection and transaction."""
        reads = _RequestReads(self)
        token = _request_reads.set(reads)
        try:
            yield
        finally:
            _request_reads.reset(token)
            await reads.close()

    def _reads(self) -> _RequestReads | None:
        reads = _request_reads.get()
        return reads if reads is not None and reads.database is self else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for Core reads: the request's, inside `request_reads()`, else a short one."""
        reads = self._reads()
        if reads is not None:
            async with reads.turn() as connection:
                yield connection
            return
        connection = await self.kept.take()
        try:
            yield connection
        finally:
            await self.kept.keep(connection)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A short session for reads; it never writes, so nothing is committed. Inside
        `request_reads()` it is bound to the request's connection."""
        reads = self._reads()
        if reads is not None:
            async with reads.turn() as connection, AsyncSession(
                    bind=connection, expire_on_commit=False, autoflush=False) as session:
                yield session
            return
        await self.kept.make_room()
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back whole if it raises."""
        await self.kept.make_room()
        async with self._write_sessions() as session, session.begin():
            yield session

    async def ping(self, timeout: float = 2.0) -> None:
        async def _ping() -> None:
            await self.kept.make_room()
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout)

    async def warm_up(self) -> None:
        """Open `min_connections` pooled connections ahead of traffic (PostgreSQL)."""
        if self.kind != "postgresql" or self.settings.database.min_connections <= 0:
            return
        conns = [await self.engine.connect() for _ in range(self.settings.database.min_connections)]
        for conn in conns:
            await conn.close()

    async def dispose(self) -> None:
        await self.kept.close()
        await self.engine.dispose()
        if self.write_engine.pool is not self.engine.pool:
            await self.write_engine.dispose()
