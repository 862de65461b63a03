"""The counters every limit keeps: `storage_for` picks Redis or `async+local://`, a `limits` storage of
our own for the counters kept in process memory.

Every limit (the request rate limit, the GraphQL cost budget, the login guard) is a `limits` strategy
over a `limits` storage: Redis when `APP__REDIS_URL` is set, this one otherwise. It exists because
the rate limit counts every request: `limits`' own asyncio memory storage takes a lock and schedules
an expiry task, which cost a fifth of the CPU of a trivial request, where a dict lookup and an
increment cost almost nothing. There is no lock because nothing here awaits: on one event loop each
call runs whole. Fixed windows (`incr`, `get`, `get_expiry`) for the rate limit and the cost budget,
moving windows (`acquire_entry`, `get_moving_window`) for the login guard.
"""

from __future__ import annotations

import bisect
import time
from typing import Any

from limits.aio.storage import MovingWindowSupport, Storage
from limits.storage import storage_from_string

from stateset_gateway.config import Settings


MAX_COUNTERS = 100_000  # clients counted at once per storage: some 20 MB at most


class LocalStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["async+local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.windows: dict[str, list[float]] = {}  # key -> [window end (epoch seconds), count]
        self.events: dict[str, list[float]] = {}  # key -> entry times, oldest first
        self._events_end: dict[str, float] = {}  # key -> when its newest entry leaves the window
        self._sweep_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return MemoryError  # nothing here talks to anything that can fail

    def _sweep(self, now: float) -> None:
        """Drop ended windows once a minute, so memory follows the clients of the current window; and
        when more than MAX_COUNTERS clients are counted at once (addresses are cheap to invent), the
        ones counted longest ago too, down to three quarters of it. A client forgotten that way starts
        its window afresh: bounded memory is worth more than an exact count for a flood's senders."""
        self.windows = {key: window for key, window in self.windows.items() if window[0] > now}
        for key in [key for key, end in self._events_end.items() if end <= now]:
            del self.events[key], self._events_end[key]
        keep = MAX_COUNTERS * 3 // 4
        if len(self.windows) > MAX_COUNTERS:  # insertion order: the oldest windows first
            self.windows = dict(list(self.windows.items())[-keep:])
        if len(self.events) > MAX_COUNTERS:
            for key in list(self.events)[:-keep]:
                del self.events[key], self._events_end[key]
        self._sweep_at = now + 60

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.window(key, expiry, amount)[0]

    def window(self, key: str, expiry: int, amount: int) -> tuple[int, float]:
        """`incr` and `get_expiry` in one synchronous call, for the strategy that spends on every
        request (rate_limit.FixedWindow): the count after adding `amount`, and when the window ends."""
        now = time.time()
        if now >= self._sweep_at or len(self.windows) > MAX_COUNTERS:
            self._sweep(now)
        window = self.windows.get(key)
        if window is None or window[0] <= now:
            window = self.windows[key] = [now + expiry, 0]
        window[1] += amount
        return int(window[1]), window[0]

    async def get(self, key: str) -> int:
        window = self.windows.get(key)
        return int(window[1]) if window is not None and window[0] > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        now = time.time()
        window = self.windows.get(key)
        return window[0] if window is not None and window[0] > now else now

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self.windows) + len(self.events)
        self.windows.clear()
        self.events.clear()
        self._events_end.clear()
        return count

    async def clear(self, key: str) -> None:
        self.windows.pop(key, None)
        self.events.pop(key, None)
        self._events_end.pop(key, None)

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        if now >= self._sweep_at or len(self.events) > MAX_COUNTERS:
            self._sweep(now)
        entries = self.events.setdefault(key, [])
        del entries[:bisect.bisect_right(entries, now - expiry)]  # entries older than the window
        if len(entries) + amount > limit:
            return False
        entries.extend([now] * amount)
        self._events_end[key] = now + expiry
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        entries = self.events.get(key, [])
        current = entries[bisect.bisect_right(entries, now - expiry):]
        return (current[0], len(current)) if current else (now, 0)


# `limits` wraps every method of a storage class to turn the backend's exceptions into StorageError.
# This storage raises none, and the wrapper (a coroutine around each coroutine) cost half a
# microsecond per request on the methods every request calls, so those stay as written here.
for _method in ("incr", "get", "get_expiry"):
    setattr(LocalStorage, _method, getattr(LocalStorage, _method).__wrapped__)


def storage_for(settings: Settings, purpose: str) -> Storage:
    """The counters of one limit: Redis shared by every instance when configured, process memory
    otherwise. `purpose` keeps the keys of different limits (and environments) apart in one Redis."""
    if not settings.redis_url:
        return storage_from_string(f"{LocalStorage.STORAGE_SCHEME[0]}://")  # type: ignore[return-value]
    scheme, _, rest = settings.redis_url.partition("://")
    scheme = {"redis": "redis", "rediss": "rediss", "unix": "redis+unix"}[scheme]
    # Bounded waits: a Redis that hangs must not hold every request until its own timeout.
    return storage_from_string(f"async+{scheme}://{rest}", implementation="redispy",  # type: ignore[return-value]
                               key_prefix=f"stateset-{purpose}-{settings.env}", socket_timeout=2,
                               socket_connect_timeout=2)
