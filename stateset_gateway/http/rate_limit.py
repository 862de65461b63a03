"""The request rate limit (CONTRACT section 6): `rate_limit` requests per window (default 100/minute)
for each caller (`Caller.budget_key`: a user, an API key seen to authenticate, else the address).

Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(epoch seconds); a refused one is 429 RATE_LIMIT_EXCEEDED with `Retry-After`. One mechanism for every
limit of the gateway: a `limits` strategy over a `limits` storage, Redis when `APP__REDIS_URL` is set
(shared by every instance) and our own `async+local://` otherwise (`counters`). The request
limit and the GraphQL cost budget are `RateLimiter`s (fixed windows, `FixedWindow`); the login guard
uses the same storages with `limits`' moving window.

Operations endpoints (health, metrics) are never limited: probes must not be starved by traffic.
Nor are the IDE pages' files under /static (public, immutable, cached by the browser): a developer
opening GraphiQL would otherwise spend several requests of their budget on scripts. If
the counter store is down the limit is not enforced (and that is logged): refusing all traffic is
worse than admitting some extra.

slowapi is not used: measured in-process (bench/floor_inprocess.py), its `Limiter` and ASGI
middleware in place of this layer took the floor from 0.70 of bare FastAPI to 0.19, and to 0.34 with
its per-request walk over every route of the app bypassed. Its check also runs `limits`' synchronous
storages, which for Redis would block the event loop, and it cannot see /graphql, which is answered
ahead of the router.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, NamedTuple

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

from stateset_gateway import errors
from stateset_gateway.config import Settings
from stateset_gateway.counters import LocalStorage, storage_for
from stateset_gateway.http.state import SCOPE_KEY

log = logging.getLogger("stateset_gateway.rate_limit")

UNLIMITED_PATHS = ("/health", "/metrics", "/static/")
STORE_WARNING_INTERVAL = 60.0



class Decision(NamedTuple):  # a tuple: made on every request, and cheaper to make than a frozen dataclass
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds at which the window starts over
    rule: str  # e.g. "100 per 1 minute"

    @property
    def reset(self) -> int:
        return math.ceil(self.reset_at)

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-ratelimit-limit", b"%d" % self.limit), (b"x-ratelimit-remaining", b"%d" % self.remaining),
                (b"x-ratelimit-reset", b"%d" % self.reset)]


class FixedWindow(FixedWindowRateLimiter):
    """`limits`' fixed window, with the one call the hot path needs: spend and learn what is left.

    `hit` followed by `get_window_stats` builds the counter's key three times and makes three storage
    calls; on every request that was 4 us, nearly a tenth of the floor. `spend` takes the key built once
    per caller (`RateLimiter` keeps them) and makes two calls (one more for a cost above 1: a request
    the budget cannot pay for whole spends nothing, so a refused expensive query does not also use up
    what cheaper ones could still have had). On the process's own counters a request's spend is
    one synchronous call (`LocalStorage.window`): no coroutine per storage call."""

    def __init__(self, storage: Storage, item: RateLimitItem) -> None:
        super().__init__(storage)
        self.item = item
        self.expiry = item.get_expiry()
        self.local = storage if isinstance(storage, LocalStorage) else None

    async def spend(self, key: str, cost: int = 1) -> tuple[bool, int, float]:
        """(allowed, remaining, reset time in epoch seconds) for the counter `item.key_for(...)` named."""
        storage, item = self.storage, self.item
        if self.local is not None and cost == 1:
            used, reset_at = self.local.window(key, self.expiry, 1)
            return used <= item.amount, max(0, item.amount - used), reset_at
        if cost > 1:
            used = await storage.get(key)
            if used + cost > item.amount:
                return False, max(0, item.amount - used), await storage.get_expiry(key)
        used = await storage.incr(key, self.expiry, amount=cost)
        return used <= item.amount, max(0, item.amount - used), await storage.get_expiry(key)


KEYS_KEPT = 10_000


class RateLimiter:
    """A budget per caller and window: `rate_limit` requests, or (the GraphQL cost budget) points of
    computed query cost, with `cost` the points one request spends."""

    def __init__(self, settings: Settings, rule: str | None = None, purpose: str = "rate") -> None:
        self.item: RateLimitItem = parse(rule or settings.rate_limit)
        self.rule = str(self.item)
        self.strategy = FixedWindow(storage_for(settings, purpose), self.item)
        self._keys: dict[str, str] = {}  # caller -> its counter's key
        self._warned_at = -math.inf

    async def hit(self, identity: str, cost: int = 1) -> Decision | None:
        """Spend `cost` of the budget, or nothing when it cannot pay for it all; None when the shared
        counter store cannot be reached."""
        key = self._keys.get(identity)
        if key is None:
            if len(self._keys) >= KEYS_KEPT:
                self._keys.clear()
            key = self._keys[identity] = self.item.key_for(identity)
        try:
            allowed, remaining, reset_at = await self.strategy.spend(key, cost)
        except Exception:
            now = time.monotonic()
            if now - self._warned_at >= STORE_WARNING_INTERVAL:
                self._warned_at = now
                log.warning("rate limit store unavailable; requests are not being limited", exc_info=True)
            return None
        return Decision(allowed, self.item.amount, remaining, reset_at, self.rule)


class RateLimitMiddleware:
    """Pure ASGI, inside the request-context layer (so a 429 has a request id, a log line, a metric
    and its transport's error shape), which is inside CORS (so preflights are not counted and
    refusals carry CORS headers)."""

    def __init__(self, app: Any, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        state = scope[SCOPE_KEY]
        decision = await self.limiter.hit(state.caller.budget_key())
        if decision is not None:
            # On whatever answers the request, errors the request-context layer renders included.
            state.response_headers = decision.headers()
            if not decision.allowed:
                retry_after = decision.retry_after
                raise errors.RateLimitExceeded(
                    retry_after, f"Rate limit exceeded: {decision.rule}; retry in {retry_after} seconds")
        await self.app(scope, receive, send)
