"""What `serve` does before it listens: bring the schema up to date, add demo data on request, and
in development print an admin API key (auth.dev_key).

Kept apart from the CLI's process handling, so tests call it in-process and each step has one place.
"""

from __future__ import annotations

from stateset_gateway.auth.dev_key import ensure_development_key
from stateset_gateway.config import Settings
from stateset_gateway.db import demo as demo_data
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database


async def prepare(db: Database, settings: Settings, *, demo: bool) -> list[str]:
    lines: list[str] = []
    schema_ready = True
    if settings.should_auto_migrate:
        await migrate.upgrade(db.write_engine)
        lines.append(f"Database: {settings.database_kind}, schema up to date.")
    else:
        status = await migrate.status(db.engine)
        if not status.up_to_date:
            schema_ready = False
            lines.append(f"Warning: {len(status.pending)} migration(s) pending; run `stateset-cli migrate up`.")
    if demo and not schema_ready:
        lines.append("Demo data skipped: the schema has no tables to hold it until it is migrated.")
    elif demo and await demo_data.is_empty(db):
        report = await demo_data.seed(db, demo_data.SeedSize(customers=50, products=20, orders=200))
        lines.append(f"Demo data: {report.customers} customers, {report.products} products, "
                     f"{report.orders} orders.")
    if settings.is_development and schema_ready:  # a new user can query at once; never in production
        lines.extend(await ensure_development_key(db, settings))
    return lines
