"""Schema migrations from code: `stateset-cli migrate up|down|status`, `serve`'s auto-migrate,
readiness, tests.

Alembic runs on the caller's async connection (`run_sync`), so one code path serves SQLite and
PostgreSQL and works inside an already-running event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class MigrationError(Exception):
    """A migration command that cannot run as asked (an unknown revision, nothing to roll back): one
    line an operator can act on, instead of Alembic's traceback."""


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once: they are code and do not change while the process runs."""
    return ScriptDirectory.from_config(alembic_config())


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def pending_after(current: str | None) -> list[str]:
    """The revisions still to apply, oldest first, on a database at `current` (None: none applied)."""
    script = _scripts()
    head = script.get_current_head()
    if head == current:
        return []
    if current is not None and current not in revisions():
        raise MigrationError(f"The database is at revision {current!r}, which this version does not know "
                             "(a newer release migrated it?)")
    return [rev.revision for rev in reversed(list(script.iterate_revisions(head, current)))]


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str | None
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def _with_connection(cfg: Config, connection: Connection) -> Config:
    cfg.attributes["connection"] = connection
    return cfg


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _run(connection: Connection, step: str, revision: str) -> str | None:
    """Run Alembic's `upgrade` or `downgrade` to `revision`; the revision reached (None: base)."""
    if step == "downgrade" and revision != "base" and _current(connection) is None:
        raise MigrationError("Nothing to roll back: no migration is applied (the database is at base).")
    try:
        getattr(command, step)(_with_connection(alembic_config(), connection), revision)
    except CommandError as exc:
        reason = str(exc).splitlines()[0].rstrip(".")
        raise MigrationError(f"Cannot {step} to {revision!r}: {reason}. Known revisions: "
                             f"{', '.join(revisions())} (also head, base, or a step such as -1).") from None
    return _current(connection)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision reached."""
    async with engine.begin() as conn:
        return await conn.run_sync(_run, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str = "-1") -> str | None:
    """Roll back to `revision`; returns the revision reached (None: base)."""
    async with engine.begin() as conn:
        return await conn.run_sync(_run, "downgrade", revision)


def _status(connection: Connection) -> MigrationStatus:
    current = _current(connection)
    return MigrationStatus(current=current, head=_scripts().get_current_head(), pending=pending_after(current))


async def status(engine: AsyncEngine) -> MigrationStatus:
    async with engine.connect() as conn:
        return await conn.run_sync(_status)


class SchemaProbe:
    """The pending migrations, as readiness asks on every probe.

    A schema at head is trusted for `ttl` seconds, so a steady stream of probes costs a database
    round trip every few seconds, not one each; a schema behind is looked at again on every probe,
    so readiness turns ready as soon as `stateset-cli migrate up` has run."""

    def __init__(self, engine: AsyncEngine, ttl: float = 5.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._up_to_date_until = 0.0

    async def pending(self) -> list[str]:
        if time.monotonic() < self._up_to_date_until:
            return []
        pending = (await status(self._engine)).pending
        if not pending:
            self._up_to_date_until = time.monotonic() + self._ttl
        return pending
