"""Read connections kept checked out between requests, for a second at most (PostgreSQL).

A check-out from SQLAlchemy's async pool and its return cost about 260,000 instructions (two
greenlet crossings, a `Connection` built, the pool's events): a fifth of a small `order(id)` read,
more than its statement. So a request's read connection is not returned to the pool when the
request ends but kept here, and the next request that reads takes it back as it is, no crossing.

What the pool would have done is done here or left to it:
- a connection kept longer than `RESTED_SECONDS` goes back to the pool (the reaper runs every
  second), whose check-out pings it after such a rest (`engine._ping_when_rested`), so none is
  lent after resting without a ping;
- once any connection of the engine is invalidated (a disconnect), the ones kept before are not
  lent again but returned, and the pool replaces them as it replaces the rest of its connections;
- a connection closed or invalidated is never kept, and none is kept inside a transaction;
- nothing here holds a connection someone else waits for: before a check-out of its own (a write,
  a ping), the database returns one kept connection when the pool has none left (`make_room`).

SQLite keeps nothing: its reads run in transactions (a kept one would hold a snapshot), and a
connection there is a thread's, not a socket's round trip.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

RESTED_SECONDS = 1.0
"""How long a pooled PostgreSQL connection may rest before its next check-out pings it first."""

IDLE_SINCE = "idle_since"
"""The key of a pooled connection's `info` holding when a kept connection was last used, set as it
goes back to the pool: its rest began then, not at its return (`engine._ping_when_rested`)."""


class KeptConnections:
    __slots__ = ("engine", "enabled", "idle", "invalidated_at", "_reaper", "_closing")

    def __init__(self, engine: AsyncEngine, *, enabled: bool) -> None:
        self.engine = engine
        self.enabled = enabled
        self.idle: list[tuple[AsyncConnection, float]] = []  # oldest first; lent from the end
        self.invalidated_at = float("-inf")
        self._reaper: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        if enabled:
            event.listen(engine.sync_engine, "invalidate", self._on_invalidate)

    def _on_invalidate(self, *_args: Any) -> None:
        self.invalidated_at = time.monotonic()

    async def take(self) -> AsyncConnection:
        """A kept connection that rested less than a second, else one from the pool."""
        now = time.monotonic()
        while self.idle:
            connection, since = self.idle.pop()
            if now - since < RESTED_SECONDS and since > self.invalidated_at:
                return connection
            await _give_back(connection, since)  # the pool pings it, or replaces it, at its next check-out
        return await self.engine.connect()

    async def keep(self, connection: AsyncConnection) -> None:
        """Keep `connection` for the next reader, or return it to the pool when it cannot be lent."""
        if not self.enabled:
            await connection.close()
            return
        if connection.in_transaction():
            # A statement run through SQLAlchemy began one: in autocommit only its bookkeeping, ended
            # without a round trip (the engine skips autocommit rollbacks), but never carried over.
            try:
                await connection.rollback()
            except Exception:  # noqa: BLE001 - not lent again; closing it is what the pool would do
                await connection.close()
                return
        if connection.closed or connection.invalidated:
            await connection.close()
            return
        self.idle.append((connection, time.monotonic()))
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().call_later(RESTED_SECONDS, self._reap)

    async def make_room(self) -> None:
        """Before a check-out of the caller's own: return the longest kept connection when the pool
        has none left to give, so a writer never waits for a connection nobody uses."""
        pool = self.engine.sync_engine.pool
        if self.idle and pool.checkedin() == 0 and pool.checkedout() >= pool.size():  # type: ignore[attr-defined]
            await _give_back(*self.idle.pop(0))

    def _reap(self) -> None:
        """Return the connections that rested a second; again in a second while any are kept."""
        self._reaper = None
        rested = time.monotonic() - RESTED_SECONDS
        while self.idle and self.idle[0][1] <= rested:
            task = asyncio.get_running_loop().create_task(_give_back(*self.idle.pop(0)))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        if self.idle:
            self._reaper = asyncio.get_running_loop().call_later(RESTED_SECONDS, self._reap)

    async def close(self) -> None:
        """Return every kept connection (before the engine is disposed)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self.idle = self.idle, []
        for connection, since in idle:
            await _give_back(connection, since)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _give_back(connection: AsyncConnection, since: float) -> None:
    """Return a kept connection to the pool, resting since its last use."""
    connection.info[IDLE_SINCE] = since
    await connection.close()
