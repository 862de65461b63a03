"""The request rate limit (CONTRACT section 6): `rate_limit` requests per window (default 100/minute)
for each API key, else each signed-in user, else each client IP.

Every limited response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(epoch seconds); a refused one is 429 RATE_LIMIT_EXCEEDED with `Retry-After`. Counters live in Redis
when `APP__REDIS_URL` is set, so every instance shares them (the `limits` library's fixed windows),
and in process memory otherwise (`LocalWindows` below, the same fixed windows: a window opens with a
client's first request and its counter resets when it ends). The local counter is our own because it
runs on every request: `limits`' asyncio memory store (key building, a lock, three awaits) cost a
fifth of the CPU of a trivial request; a dict lookup and an increment cost almost nothing.

The client is named before authentication, from what it presents: an API key by a digest of the key
once this process has seen that key authenticate (until then, and for made-up keys, by address), a
bearer token by its verified subject (an invalid one by address). Operations endpoints (health,
metrics) are never limited: probes must not be starved by traffic. If the counter store is down the
limit is not enforced (and that is logged): refusing all traffic is worse than admitting some extra.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, NamedTuple

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, tokens
from stateset_gateway.config import Settings
from stateset_gateway.middleware import RESPONSE_HEADERS

log = logging.getLogger("stateset_gateway.traffic")

UNLIMITED_PATHS = ("/health", "/metrics")
STORE_WARNING_INTERVAL = 60.0
CREDENTIAL_HEADERS = frozenset({b"x-api-key", b"authorization"})


def storage_for(settings: Settings, purpose: str) -> Storage:
    """A `limits` counter store: Redis shared by every instance when configured, memory otherwise.
    `purpose` keeps the keys of different limits (and environments) apart in one Redis."""
    if not settings.redis_url:
        return storage_from_string("async+memory://")  # type: ignore[return-value]
    scheme, _, rest = settings.redis_url.partition("://")
    scheme = {"redis": "redis", "rediss": "rediss", "unix": "redis+unix"}[scheme]
    # Bounded waits: a Redis that hangs must not hold every request until its own timeout.
    return storage_from_string(f"async+{scheme}://{rest}", implementation="redispy",  # type: ignore[return-value]
                               key_prefix=f"stateset-{purpose}-{settings.env}", socket_timeout=2,
                               socket_connect_timeout=2)


class Decision(NamedTuple):  # a tuple: made on every request, and cheaper to make than a frozen dataclass
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds at which the window starts over
    rule: str  # e.g. "100 per 1 minute"

    @property
    def reset(self) -> int:
        return math.ceil(self.reset_at)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-ratelimit-limit", b"%d" % self.limit), (b"x-ratelimit-remaining", b"%d" % self.remaining),
                (b"x-ratelimit-reset", b"%d" % self.reset)]

    def error(self) -> errors.RateLimitExceeded:
        retry_after = max(1, math.ceil(self.reset_at - time.time()))
        return errors.RateLimitExceeded(
            retry_after, f"Rate limit exceeded: {self.rule}; retry in {retry_after} seconds",
            headers={name.decode(): value.decode() for name, value in self.headers()})


class LocalWindows:
    """Fixed-window counters in this process: identity -> [window end (epoch seconds), requests]."""

    def __init__(self, amount: int, seconds: int) -> None:
        self.amount, self.seconds = amount, seconds
        self.windows: dict[str, list[float]] = {}
        self._sweep_at = time.time() + seconds

    def hit(self, identity: str, cost: int = 1) -> tuple[bool, int, float]:
        now = time.time()
        if now >= self._sweep_at:  # drop ended windows, so memory follows the clients of one window
            self.windows = {k: w for k, w in self.windows.items() if w[0] > now}
            self._sweep_at = now + self.seconds
        window = self.windows.get(identity)
        if window is None or window[0] <= now:
            window = self.windows[identity] = [now + self.seconds, 0]
        if window[1] + cost > self.amount:
            return False, self.amount - int(window[1]), window[0]
        window[1] += cost
        return True, self.amount - int(window[1]), window[0]


class RateLimiter:
    """A budget per client and window: `rate_limit` requests, or (the GraphQL cost budget) points of
    computed query cost, with `cost` the points one request spends."""

    def __init__(self, settings: Settings, rule: str | None = None, purpose: str = "rate") -> None:
        self.settings = settings
        self.item: RateLimitItem = parse(rule or settings.rate_limit)
        self.rule = str(self.item)
        self.local = None if settings.redis_url else LocalWindows(self.item.amount, self.item.get_expiry())
        self.shared = FixedWindowRateLimiter(storage_for(settings, purpose)) if settings.redis_url else None
        self._warned_at = -math.inf

    async def hit(self, identity: str, cost: int = 1) -> Decision | None:
        """Spend `cost` of the budget; None when the shared counter store cannot be reached."""
        if self.local is not None:
            allowed, remaining, reset_at = self.local.hit(identity, cost)
            return Decision(allowed, self.item.amount, remaining, reset_at, self.rule)
        assert self.shared is not None
        try:
            allowed = await self.shared.hit(self.item, identity, cost=cost)
            stats = await self.shared.get_window_stats(self.item, identity)
        except Exception:
            now = time.monotonic()
            if now - self._warned_at >= STORE_WARNING_INTERVAL:
                self._warned_at = now
                log.warning("rate limit store unavailable; requests are not being limited", exc_info=True)
            return None
        return Decision(allowed, self.item.amount, stats.remaining, stats.reset_time, self.rule)


def client_identity(settings: Settings, headers: dict[bytes, bytes], client: tuple[str, int] | None, *,
                    verified_keys_only: bool = False) -> str:
    """Who is calling, before authentication: `key:<digest>` for an API key, `user:<id>` (or
    `key:<id>`) for a valid bearer token, else `ip:<address>`. With `verified_keys_only` (the rate
    limit), an API key this process has not seen authenticate counts as its caller's address."""
    api_key = headers.get(b"x-api-key")
    if api_key:
        digest = api_keys.hash_key(api_key.decode("latin-1"))
        if not verified_keys_only or digest in api_keys.verified_keys:
            return "key:" + digest[:32]
        return _address(client)
    authorization = headers.get(b"authorization")
    if authorization:
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                claims = tokens.decode_token(settings, token.strip(), "access")
            except errors.DomainError:
                pass  # authentication refuses it on this same request
            else:
                kind = "key" if claims.get("kind") == "api_key" else "user"
                return f"{kind}:{claims['sub']}"
    return _address(client)


def scope_identity(settings: Settings, scope: dict[str, Any], *, verified_keys_only: bool = False) -> str:
    headers = {k: v for k, v in scope.get("headers", ()) if k in CREDENTIAL_HEADERS}
    return client_identity(settings, headers, scope.get("client"), verified_keys_only=verified_keys_only)


def _address(client: tuple[str, int] | None) -> str:
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    """Pure ASGI, inside the request-context middleware (so a 429 has a request id, a log line and a
    metric), which is inside CORS (so preflights are not counted and refusals carry CORS headers)."""

    def __init__(self, app: Any, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(scope_identity(self.limiter.settings, scope, verified_keys_only=True))
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            raise decision.error()
        # The request-context middleware (outside this one) adds these to whatever answers the
        # request, errors it renders itself included, as it adds X-Request-ID.
        scope.setdefault("state", {})[RESPONSE_HEADERS] = decision.headers()
        await self.app(scope, receive, send)
