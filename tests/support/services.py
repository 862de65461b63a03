"""Which real services the suite runs against, and whether their absence fails or narrows the run.

In CI (CI=true) or with STATESET_REQUIRE_SERVICES=1, PostgreSQL and Redis must answer: a missing
one errors every test that needs it. Locally, PostgreSQL or Redis being absent narrows the run to
SQLite / in-process storage instead.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

POSTGRES_ADMIN_URL = os.environ.get("STATESET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("STATESET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get(
    "STATESET_REQUIRE_SERVICES", ""
) in {"1", "true"}


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def backends() -> list[str]:
    if REQUIRED or reachable(POSTGRES_ADMIN_URL, 5432):
        return ["sqlite", "postgresql"]
    return ["sqlite"]


def redis_available() -> bool:
    return REQUIRED or reachable(REDIS_URL, 6379)
