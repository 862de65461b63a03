"""Brute-force protection for sign-in: too many failed logins for one email, or from one client IP,
and further attempts answer 429 RATE_LIMIT_EXCEEDED (with Retry-After) until the window moves on.

Every attempt counts when it starts (so a burst of parallel guesses cannot all pass a check made
before any of them failed), and a correct password clears that email's counter. The counters are
moving windows on the same `limits` storages as every limit of the gateway
(`counters.storage_for`): one Redis shared by every instance when `APP__REDIS_URL` is set,
process memory otherwise. While blocked, even the right password is refused, otherwise the block
would only slow a guesser down by the cost of a request. If Redis is unreachable the guard lets
logins through (and logs it): losing sign-in for everyone is worse.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from stateset_gateway import errors
from stateset_gateway.config import Settings
from stateset_gateway.counters import storage_for

log = logging.getLogger("stateset_gateway.auth")


@dataclass(frozen=True)
class GuardLimits:
    per_email: str = "5 per 15 minutes"
    per_ip: str = "20 per 15 minutes"


class LoginGuard:
    def __init__(self, storage: Storage, guard_limits: GuardLimits | None = None) -> None:
        guard_limits = guard_limits or GuardLimits()
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.email_limit: RateLimitItem = parse(guard_limits.per_email)
        self.ip_limit: RateLimitItem = parse(guard_limits.per_ip)

    @classmethod
    def from_settings(cls, settings: Settings, guard_limits: GuardLimits | None = None) -> LoginGuard:
        return cls(storage_for(settings, "login"), guard_limits)

    def _checks(self, email: str, ip: str | None) -> list[tuple[RateLimitItem, str, str]]:
        checks = [(self.email_limit, "email", email.strip().lower())]
        if ip:
            checks.append((self.ip_limit, "ip", ip))
        return checks

    async def attempt(self, email: str, ip: str | None) -> None:
        """Count this attempt; raise RATE_LIMIT_EXCEEDED when either counter is already exhausted."""
        try:
            for item, kind, value in self._checks(email, ip):
                if not await self.limiter.hit(item, kind, value):
                    stats = await self.limiter.get_window_stats(item, kind, value)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise errors.RateLimitExceeded(
                        retry_after, f"Too many failed sign-in attempts; try again in {retry_after} seconds"
                    )
        except errors.RateLimitExceeded:
            raise
        except Exception:  # storage down: fail open, loudly
            log.warning("login guard storage unavailable; sign-in attempts are not being limited", exc_info=True)

    async def succeeded(self, email: str) -> None:
        """A correct password forgives that email's earlier typos (the IP counter stays)."""
        try:
            await self.limiter.clear(self.email_limit, "email", email.strip().lower())
        except Exception:
            log.warning("login guard storage unavailable", exc_info=True)


def guard_for(app_state: object, settings: Settings) -> LoginGuard:
    """The application's guard, made on first use and kept on `app.state` (one per process)."""
    guard = getattr(app_state, "login_guard", None)
    if guard is None:
        guard = LoginGuard.from_settings(settings)
        app_state.login_guard = guard  # type: ignore[attr-defined]
    return guard
