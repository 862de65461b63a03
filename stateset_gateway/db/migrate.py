"""Schema migrations from code: `stateset-cli migrate up|down|status`, `serve`'s auto-migrate, tests.

Alembic runs on the caller's async connection (`run_sync`), so one code path serves SQLite and
PostgreSQL and works inside an already-running event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_with_connection(alembic_config(), c), revision))


async def downgrade(engine: AsyncEngine, revision: str = "-1") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(_with_connection(alembic_config(), c), revision))


def _status(connection: Connection) -> MigrationStatus:
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_revision()
    head = script.get_current_head()
    pending = [
        rev.revision for rev in script.iterate_revisions(head, current)
    ] if head != current else []
    return MigrationStatus(current=current, head=head, pending=list(reversed(pending)))


async def status(engine: AsyncEngine) -> MigrationStatus:
    async with engine.connect() as conn:
        return await conn.run_sync(_status)
