"""Verified API keys kept in process, so that a request with a key costs no query, and a revoked key
still stops working within a second on every instance.

An entry is the Principal a key authenticated as, with the key's expiry and last use. It is trusted:

- never past the key's `expires_at`;
- for `TRUST_SECONDS` after it was read from the database, whatever else happens: the bound for a
  change this process cannot hear of (another worker or the CLI without Redis, a lost message);
- beyond that, only while this instance listens to the announcements of every other one (Redis
  pub/sub, with `APP__REDIS_URL`), and at most `RECHECK_SECONDS`. Listening is proven, not assumed:
  a ping goes down the subscription every `PING_SECONDS`, and Redis answers it after every message
  published before it, so an answer to a ping sent at S means nothing published before S was
  missed. When no answer has come for a ping sent within the last `TRUST_SECONDS` (the connection
  is down, or silently dead), entries fall back to the first rule until the subscription is back,
  and what was read before it came back is never trusted longer than that.

Whoever revokes a key, or changes what its owner may do (`announce`), forgets it at once in every
cache of its own process and publishes the change for the other instances. A lookup that started
before a change to its key or its owner arrived is not kept: it may have read the row as it was
before (changes to other keys do not stop it from being kept).

The cache is also the application's memory of keys seen to authenticate (`client_key`), which the
budgets count a key against (`auth.caller`): bounded, like the other caches, by `[cache] max_size_mb`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from stateset_gateway.auth.principal import Principal
from stateset_gateway.caches import ENTRY_OVERHEAD_BYTES, SizedLRU, cache_for
from stateset_gateway.config import Settings

if TYPE_CHECKING:
    from stateset_gateway.db.engine import Database

log = logging.getLogger("stateset_gateway.auth")

TRUST_SECONDS = 1.0
RECHECK_SECONDS = 30.0
PING_SECONDS = 0.25
RECONNECT_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)  # waits between attempts to subscribe again, then the last
PERMISSION_BYTES = 64
CHANGES_KEPT = 1024


def channel_for(settings: Settings) -> str:
    return f"stateset-api-keys-{settings.env}"


@dataclass(slots=True)
class VerifiedKey:
    """`verified_at` is when the lookup that read it started (monotonic seconds)."""

    principal: Principal
    client_key: str  # the principal's, made once: the budgets ask for it on every request
    expires_at: float | None  # epoch seconds
    last_used_at: datetime | None
    verified_at: float


class KeyCache:
    def __init__(self, settings: Settings) -> None:
        self.entries: SizedLRU[str, VerifiedKey] = cache_for(settings, "api_keys")
        self.redis_url = settings.redis_url
        self.channel = channel_for(settings)
        # The changes heard lately (when, key id, user id): a lookup begun before one of its own is not kept.
        self.changes: deque[tuple[float, uuid.UUID | None, uuid.UUID | None]] = deque(maxlen=CHANGES_KEPT)
        self.listening_since = math.inf  # when the current subscription was confirmed (monotonic)
        self.heard_until = -math.inf  # nothing published before this (monotonic) was missed
        self.redis: Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._confirmed = False
        _LIVE.add(self)

    # --- lookups -------------------------------------------------------------------------------

    def trusted(self, digest: str) -> VerifiedKey | None:
        """The entry of this key digest, if it may be used without asking the database."""
        entry = self.entries.get(digest)
        if entry is None or (entry.expires_at is not None and time.time() >= entry.expires_at):
            return None
        now = time.monotonic()
        age = now - entry.verified_at
        if age < TRUST_SECONDS:
            return entry
        if (age < RECHECK_SECONDS and entry.verified_at >= self.listening_since
                and now - self.heard_until < TRUST_SECONDS):
            return entry
        return None

    def client_key(self, digest: str) -> str | None:
        """The budgets' name of a key this process has seen authenticate (fresh or not)."""
        entry = self.entries.get(digest)
        return entry.client_key if entry is not None else None

    def lookup_started(self) -> float:
        """What `store` needs to know of a lookup about to read the database: when it began."""
        return time.monotonic()

    def store(self, digest: str, principal: Principal, expires_at: datetime | None, last_used_at: datetime | None,
              started: float) -> None:
        verified_at = started
        if self._changed_since(verified_at, principal):
            return  # a change to this key or its owner was heard while the row was read: it may be the old row
        size = ENTRY_OVERHEAD_BYTES + PERMISSION_BYTES * len(principal.permissions)
        self.entries.put(digest, VerifiedKey(principal, principal.client_key,
                                             expires_at.timestamp() if expires_at else None, last_used_at,
                                             verified_at), size)

    def discard(self, digest: str) -> None:
        self.entries.pop(digest)

    def _changed_since(self, moment: float, principal: Principal) -> bool:
        changes = self.changes
        if len(changes) == changes.maxlen and changes[0][0] >= moment:
            return True  # more changes since than are remembered: one of them may be this key's
        return any(when >= moment and (key_id == principal.id or (user_id is not None and user_id == principal.user_id))
                   for when, key_id, user_id in changes)

    def forget(self, *, key_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> None:
        """Drop the entries of this key, or of every key this user owns."""
        self.changes.append((time.monotonic(), key_id, user_id))
        doomed = [digest for digest, entry in self.entries.items()
                  if (key_id is not None and entry.principal.id == key_id)
                  or (user_id is not None and entry.principal.user_id == user_id)]
        for digest in doomed:
            self.entries.pop(digest)

    # --- the subscription ----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for the other instances' changes (with Redis; without it there is nothing to hear)."""
        if self.redis_url and self._task is None:
            self.redis = Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="api-key-changes")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None
        _LIVE.discard(self)

    async def _listen(self) -> None:
        failures = 0
        while True:
            self._confirmed = False
            try:
                await self._subscribed()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._confirmed:
                    failures = 0
                if failures == 0:
                    log.warning("API key change subscription lost; cached keys are re-verified every second "
                                "until it is back", exc_info=True)
                wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                await asyncio.sleep(wait)

    async def _subscribed(self) -> None:
        """Subscribe, then ping and read until the connection fails. Every confirmation of the
        subscription (redis-py subscribes again by itself when it reconnects) starts trust afresh:
        what was published while it was away is lost."""
        assert self.redis is not None
        pubsub = self.redis.pubsub()
        started = time.monotonic()
        try:
            await pubsub.subscribe(self.channel)
            pinged = -math.inf
            while True:
                now = time.monotonic()
                if now - pinged >= PING_SECONDS:
                    pinged = now
                    await pubsub.ping(repr(now))
                message = await pubsub.get_message(timeout=PING_SECONDS)
                if message is not None:
                    self._heard(message)
                if now - max(self.heard_until, started) > 4 * TRUST_SECONDS:
                    raise ConnectionError("the subscription answers no pings")
        finally:
            self.listening_since = math.inf
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _heard(self, message: dict[str, object]) -> None:
        kind = message["type"]
        data = message.get("data")
        text = data.decode() if isinstance(data, bytes) else str(data)
        if kind == "subscribe":
            # What was read before this confirmation is trusted `TRUST_SECONDS` at most (`trusted`).
            self.listening_since = time.monotonic()
            if not self._confirmed:
                log.info("listening for API key changes", extra={"channel": self.channel})
            self._confirmed = True
        elif kind == "pong":
            with contextlib.suppress(ValueError):
                self.heard_until = max(self.heard_until, float(text))
        elif kind == "message":
            apply_change(self, text)


# Every cache of this process, so that a change made here is applied here at once (and without Redis,
# the only instance there is learns of it).
_LIVE: weakref.WeakSet[KeyCache] = weakref.WeakSet()


def apply_change(cache: KeyCache, change: str) -> None:
    kind, _, raw_id = change.partition(":")
    try:
        parsed = uuid.UUID(raw_id)
    except ValueError:
        log.warning("unreadable API key change ignored", extra={"change": change})
        return
    if kind == "key":
        cache.forget(key_id=parsed)
    elif kind == "user":
        cache.forget(user_id=parsed)


async def announce(db: Database, *, key_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> None:
    """A key was revoked (`key_id`), or what a user's keys may do changed (`user_id`): every cache of
    this process forgets it now, and, with Redis, every other instance as soon as it hears."""
    change = f"key:{key_id}" if key_id is not None else f"user:{user_id}"
    for cache in list(_LIVE):
        apply_change(cache, change)
    url = db.settings.redis_url
    if not url:
        return
    channel = channel_for(db.settings)
    shared = next((c.redis for c in list(_LIVE) if c.redis is not None and c.redis_url == url), None)
    try:
        if shared is not None:
            await shared.publish(channel, change)
        else:  # the CLI, or an instance not serving: a connection for this one message
            async with Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as redis:
                await redis.publish(channel, change)
    except Exception:
        log.error("could not announce an API key change to the other instances; they stop accepting the "
                  "key when they next verify it", extra={"change": change}, exc_info=True)
