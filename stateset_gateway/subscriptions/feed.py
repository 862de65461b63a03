"""The outbox -> the hub: every event committed to `webhook_events`, by this instance or any other,
reaches this instance's subscribers, in commit order per resource.

The outbox table is the truth: while anyone subscribes here, the feed reads the events committed
since its last read, in `created_at` order, and publishes each once. Two resources' events may
commit out of that order, so every read looks back `[subscriptions] lookback_seconds` for events
committed late and skips those already published; one resource's events cannot (its writes hold
the row's lock, and each event is made after the lock was taken), so a subscriber sees them in the
order they committed, each with the resource as that commit left it.

Reads are woken rather than scheduled: a commit that recorded events wakes the feeds of this
process at once (`after_commit`), and on PostgreSQL those of every instance too (`NOTIFY` in the
committing transaction, `LISTEN` by each running feed). On SQLite, and whenever a wake-up is lost,
the feed still reads every `poll_seconds`, so several processes on one file see each other's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import event, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import WebhookEvent
from stateset_gateway.db.types import utcnow
from stateset_gateway.subscriptions.hub import Event, Hub

log = logging.getLogger("stateset_gateway.subscriptions")

BATCH = 500
RECENT = timedelta(seconds=1)  # how far back a woken read looks; the periodic read looks back further
OUTBOX_MARK = "stateset.outbox"
CHANNEL = "stateset_outbox"


def _database_key(url: URL) -> tuple[Any, ...]:
    """Which database a URL names, whatever its driver (each engine of one database has the same key)."""
    return (url.get_backend_name(), url.host, url.port, url.database)


class OutboxFeed:
    def __init__(self, settings: Settings, hub: Hub) -> None:
        self.settings = settings
        self.limits = settings.subscriptions
        self.hub = hub
        self.key = _database_key(settings.sqlalchemy_url)
        self.db: Database | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        _FEEDS.add(self)

    def bind(self, db: Database) -> None:
        """The application's database, known once it has started."""
        self.db = db

    # ---- running while anyone subscribes ------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        assert self.db is not None
        floor = utcnow()  # a new subscriber sees what commits from now on
        high = floor
        seen: dict[Any, datetime] = {}
        last_full = asyncio.get_running_loop().time()
        async with self._listening():
            while True:
                now = asyncio.get_running_loop().time()
                full = now - last_full >= self.limits.poll_seconds
                if full:
                    last_full = now
                since = max(floor, high - (timedelta(seconds=self.limits.lookback_seconds) if full else RECENT))
                try:
                    rows = await self._read(since)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database went away: try again at the next wake-up or poll
                    log.warning("could not read the event outbox", exc_info=True)
                    rows = []
                for event_id, created_at, body in rows:
                    if event_id in seen:
                        continue
                    seen[event_id] = created_at
                    high = max(high, created_at)
                    document = orjson.loads(body)
                    self.hub.publish(Event(document["id"], document["type"], document["data"]))
                    await asyncio.sleep(0)  # each subscription takes its event before the next arrives
                oldest = high - timedelta(seconds=self.limits.lookback_seconds)
                for event_id in [e for e, at in seen.items() if at < oldest]:
                    del seen[event_id]
                if len(rows) >= BATCH:
                    continue  # more to read at once
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.limits.poll_seconds):
                        await self._wake.wait()

    async def _read(self, since: datetime) -> list[Any]:
        assert self.db is not None
        E = WebhookEvent
        async with self.db.reader() as session:
            result = await session.execute(
                select(E.id, E.created_at, E.body)
                .where(E.created_at >= since, E.webhook_id.is_(None))
                .order_by(E.created_at, E.id).limit(BATCH))
            return list(result.all())

    # ---- wake-ups between instances -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        """On PostgreSQL, wake this feed when any instance commits events (`_announce`), for as
        long as it runs, over a connection of its own (LISTEN holds it)."""
        connection = None
        if self.key[0] == "postgresql":
            try:
                import asyncpg

                url = self.settings.sqlalchemy_url.set(drivername="postgresql")
                connection = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=5)
                await connection.add_listener(CHANNEL, lambda *_args: self.wake())
            except Exception:
                log.warning("could not LISTEN for outbox wake-ups; reading every %ss", self.limits.poll_seconds,
                            exc_info=True)
        try:
            yield
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)


# ---- commits that recorded events -----------------------------------------------------------------

_FEEDS: weakref.WeakSet[OutboxFeed] = weakref.WeakSet()


def _records_events(session: Session) -> bool:
    return session.info.get(OUTBOX_MARK, False) or any(isinstance(row, WebhookEvent) for row in session.new)


@event.listens_for(Session, "before_flush")
def _mark(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(row, WebhookEvent) for row in session.new):
        session.info[OUTBOX_MARK] = True


@event.listens_for(Session, "before_commit")
def _announce(session: Session) -> None:
    """On PostgreSQL, a transaction that records events also notifies every instance's feed:
    NOTIFY inside the transaction is delivered when, and only if, it commits."""
    if _records_events(session) and session.get_bind().dialect.name == "postgresql":
        session.info[OUTBOX_MARK] = True
        session.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """Wake this process's feeds on the database at once, whatever the database."""
    if not session.info.pop(OUTBOX_MARK, False):
        return
    key = _database_key(session.get_bind().url)
    for feed in list(_FEEDS):
        if feed.key == key:
            feed.wake()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(OUTBOX_MARK, None)
