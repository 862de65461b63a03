"""Migrations walk up, down to base and up again on both databases, and the migrated schema is the
schema the models describe.

Why compare against the models: the application queries through the models, so a migration that
forgets an index, a column or a type change passes every other test on a `create_all` database and
only fails in production. `compare_metadata` is what `alembic revision --autogenerate` uses, with the
same options as migrations/env.py, so an empty diff here also means autogenerate stays quiet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Product, metadata
from tests.support import services
from tests.support.databases import fresh_database

MODEL_TABLES = {table.name for table in metadata.sorted_tables}


@pytest.fixture(params=services.backends())
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A handle on a brand-new database that no migration has touched."""
    async with fresh_database(request.param, tmp_path) as url:
        database = Database(load_settings(database_url=url))
        try:
            yield database
        finally:
            await database.dispose()


def _schema_diff(connection: Connection) -> list[Any]:
    """Differences between the live schema and the models, as autogenerate would see them."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "render_as_batch": connection.dialect.name == "sqlite",
            "target_metadata": metadata,
        },
    )
    return compare_metadata(context, metadata)


async def schema_diff(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_schema_diff)


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_status_walk_up_down_to_base_and_up_again(fresh_db: Database) -> None:
    before = await migrate.status(fresh_db.engine)
    assert before.current is None
    assert before.head is not None
    assert before.pending and before.pending[-1] == before.head
    assert not before.up_to_date

    await migrate.upgrade(fresh_db.write_engine)
    after_up = await migrate.status(fresh_db.engine)
    assert after_up.current == after_up.head == before.head
    assert after_up.pending == [] and after_up.up_to_date
    assert MODEL_TABLES <= await table_names(fresh_db)
    assert await schema_diff(fresh_db) == []

    await migrate.downgrade(fresh_db.write_engine, "base")
    at_base = await migrate.status(fresh_db.engine)
    assert at_base.current is None
    assert at_base.pending == before.pending
    # Nothing of the application is left behind; only Alembic's own bookkeeping table may remain.
    assert await table_names(fresh_db) <= {"alembic_version"}

    await migrate.upgrade(fresh_db.write_engine)
    assert (await migrate.status(fresh_db.engine)).up_to_date
    assert await schema_diff(fresh_db) == []


async def test_down_one_step_from_head_then_up(fresh_db: Database) -> None:
    """`migrate down` with no argument (-1) rolls back exactly one revision."""
    await migrate.upgrade(fresh_db.write_engine)
    head = (await migrate.status(fresh_db.engine)).head
    await migrate.downgrade(fresh_db.write_engine)  # default "-1"
    status = await migrate.status(fresh_db.engine)
    assert status.current != head
    assert status.pending and status.pending[-1] == head
    await migrate.upgrade(fresh_db.write_engine)
    assert (await migrate.status(fresh_db.engine)).current == head


async def test_migrated_schema_keeps_money_exact_and_skus_unique(fresh_db: Database) -> None:
    """After a down/up cycle the tables still take and give back what the models promise:
    Decimal money to the cent and a unique SKU."""
    await migrate.upgrade(fresh_db.write_engine)
    await migrate.downgrade(fresh_db.write_engine, "base")
    await migrate.upgrade(fresh_db.write_engine)
    async with fresh_db.writer() as session:
        session.add(Product(sku="SKU-MIG-1", name="Migrated Mug", price=Decimal("149.99")))
    async with fresh_db.reader() as session:
        price = (await session.execute(select(Product.price).where(Product.sku == "SKU-MIG-1"))).scalar_one()
    assert isinstance(price, Decimal) and price == Decimal("149.99")
    with pytest.raises(IntegrityError):
        async with fresh_db.writer() as session:
            session.add(Product(sku="SKU-MIG-1", name="Duplicate", price=Decimal("1.00")))


async def test_schema_comparison_notices_drift(fresh_db: Database) -> None:
    """The comparison above can fail: a dropped index and a changed column are both reported."""
    await migrate.upgrade(fresh_db.write_engine)
    async with fresh_db.write_engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_orders_status"))
        if fresh_db.kind == "postgresql":
            await conn.execute(text("ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(14, 2)"))
        else:  # SQLite cannot change a column's type in place; an extra column is drift too
            await conn.execute(text("ALTER TABLE orders ADD COLUMN legacy_ref VARCHAR(20)"))
    diff = await schema_diff(fresh_db)
    flat = [entry for item in diff for entry in (item if isinstance(item, list) else [item])]
    kinds = {entry[0] for entry in flat}
    assert "add_index" in kinds
    if fresh_db.kind == "postgresql":
        assert any(entry[0] == "modify_type" and entry[3] == "total" for entry in flat)
    else:
        assert any(entry[0] == "remove_column" and entry[3].name == "legacy_ref" for entry in flat)
