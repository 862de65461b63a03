"""`stateset-cli doctor`: the troubleshooting guide's "diagnostic information" in one command.

Version and commit, the effective configuration (secrets masked), whether the database answers and
where its migrations stand, whether Redis answers, whether the configured port is free and where the
log file is. It only looks: it never creates the SQLite file, migrates or writes anything.
"""

from __future__ import annotations

import asyncio
import errno
import platform
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stateset_gateway import __version__
from stateset_gateway.config import Settings, config_files, masked

TIMEOUT = 3.0  # seconds for each of the database and Redis


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def version_line() -> str:
    from stateset_gateway.http.operations import git_commit

    commit = git_commit()
    return (f"StateSet Gateway {__version__}" + (f" (commit {commit[:12]})" if commit else "")
            + f", Python {platform.python_version()}, {platform.platform()}")


def configuration(settings: Settings) -> dict[str, Any]:
    files = [str(path) for path in config_files()]
    return {"env": settings.env, "files": files or ["(none: built-in defaults)"], "settings": masked(settings)}


def _reason(exc: BaseException) -> str:
    """The driver's own first line (SQLAlchemy wraps it in a paragraph with a link)."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


async def _database(settings: Settings) -> Check:
    from stateset_gateway.db import migrate
    from stateset_gateway.db.engine import Database

    where = masked(settings)["database_url"]
    if settings.database_kind == "sqlite":
        file = settings.sqlalchemy_url.database
        if file and file != ":memory:" and not Path(file).exists():
            return Check("database", False, f"{where}: the file does not exist yet (`stateset-cli serve` or "
                                            "`stateset-cli migrate up` creates it)")
    db = Database(settings)
    try:
        await db.ping(timeout=TIMEOUT)
        status = await asyncio.wait_for(migrate.status(db.engine), TIMEOUT)
    except Exception as exc:  # what an operator needs is the reason, whatever the driver raised
        return Check("database", False, f"{where}: unreachable ({_reason(exc)})")
    finally:
        await db.dispose()
    if status.up_to_date:
        return Check("database", True, f"{where}: reachable; migrations up to date ({status.current})")
    return Check("database", False, f"{where}: reachable; migrations pending: {', '.join(status.pending)} "
                                    f"(at {status.current or 'none'}; run `stateset-cli migrate up`)")


async def _redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", True, "not configured (APP__REDIS_URL unset: limits are counted per process)")
    from redis.asyncio import Redis

    where = masked(settings)["redis_url"]
    client = Redis.from_url(settings.redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        await client.ping()
    except Exception as exc:
        return Check("redis", False, f"{where}: unreachable ({_reason(exc)})")
    finally:
        await client.aclose()
    return Check("redis", True, f"{where}: PONG")


def _port(settings: Settings) -> Check:
    """Free or taken; taken is no failure (it may be this gateway), but says how to find who has it."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    address = f"{settings.host}:{settings.port}"
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return Check("port", True, f"{address} is in use (a running gateway, or another process: "
                                           f"`lsof -i :{settings.port}`; APP__PORT picks another)")
            return Check("port", False, f"cannot listen on {address}: {exc.strerror or exc} (check APP__HOST, APP__PORT)")
    return Check("port", True, f"{address} is free")


def _log_file(settings: Settings) -> Check:
    path = settings.log_file
    if path is None:
        return Check("log file", True, "none (JSON lines on stdout only; [logging] file sets one)")
    state = f"{path.stat().st_size} bytes" if path.exists() else "not written yet"
    return Check("log file", True, f"{path} ({state})")


async def _services(settings: Settings) -> list[Check]:
    database, redis = await asyncio.gather(_database(settings), _redis(settings))
    return [database, redis]


def run(settings: Settings) -> tuple[list[str], bool]:
    """The report's lines, and whether every check passed."""
    checks = [*asyncio.run(_services(settings)), _port(settings), _log_file(settings)]
    return [check.line() for check in checks], all(check.ok for check in checks)
