"""Concurrent writers wait for each other instead of failing, on SQLite and PostgreSQL.

Why it matters: the guide's "database is locked" is what a client of an embedded database sees when
writers collide; the gateway promises (WAL, busy timeout, BEGIN IMMEDIATE) that they queue instead.
Each transaction holds its write lock across an await, so the writers really overlap.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from stateset_gateway.db.errors import to_domain_error
from stateset_gateway.db.models import InventoryBalance, InventoryLocation, Product
from stateset_gateway.errors import ResourceLocked

WRITERS = 20


async def _balance(db: Database) -> uuid.UUID:
    """A product stocked at one location with on_hand 0; returns the balance id."""
    product = Product(sku=f"SKU-CONC-{uuid.uuid4().hex[:8]}", name="Counter", price=Decimal("1.00"))
    location = InventoryLocation(code=f"LOC-{uuid.uuid4().hex[:8]}", name="Counter Location")
    async with db.writer() as session:
        session.add_all([product, location])
        await session.flush()
        balance = InventoryBalance(product_id=product.id, location_id=location.id, on_hand=0, reserved=0)
        session.add(balance)
    return balance.id


async def test_concurrent_writers_all_commit(db: Database) -> None:
    balance_id = await _balance(db)
    inside = 0
    overlapped = False

    async def increment() -> None:
        nonlocal inside, overlapped
        async with db.writer() as session:
            inside += 1
            overlapped = overlapped or inside > 1
            await session.execute(
                update(InventoryBalance)
                .where(InventoryBalance.id == balance_id)
                .values(on_hand=InventoryBalance.on_hand + 1, version=InventoryBalance.version + 1)
            )
            await asyncio.sleep(0.02)  # hold the write lock while the others try to take it
            inside -= 1

    results = await asyncio.gather(*(increment() for _ in range(WRITERS)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert overlapped  # the transactions were in flight together, so the lock was contended
    async with db.reader() as session:
        on_hand, version = (await session.execute(
            select(InventoryBalance.on_hand, InventoryBalance.version).where(InventoryBalance.id == balance_id)
        )).one()
    assert (on_hand, version) == (WRITERS, WRITERS + 1)


async def _migrated_sqlite(tmp_path: Path, *, connect_timeout: float) -> Database:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    db = Database(load_settings(database_url=url, database={"connect_timeout": connect_timeout}))
    if not (await migrate.status(db.engine)).up_to_date:
        await migrate.upgrade(db.write_engine)
    return db


async def test_sqlite_writer_waits_for_the_lock_holder(tmp_path: Path) -> None:
    """A second writer blocks while the first holds the lock, then succeeds; with a busy timeout
    shorter than the hold it gets RESOURCE_LOCKED (423), never a raw "database is locked"."""
    patient = await _migrated_sqlite(tmp_path, connect_timeout=30)
    impatient = await _migrated_sqlite(tmp_path, connect_timeout=0.05)
    try:
        balance_id = await _balance(patient)
        holding = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with patient.writer() as session:
                await session.execute(update(InventoryBalance).values(on_hand=InventoryBalance.on_hand + 1))
                holding.set()
                await release.wait()

        async def bump(db: Database) -> float:
            started = time.monotonic()
            async with db.writer() as session:
                await session.execute(update(InventoryBalance).values(on_hand=InventoryBalance.on_hand + 1))
            return time.monotonic() - started

        first = asyncio.ensure_future(holder())
        await holding.wait()
        with pytest.raises(Exception) as locked:
            await bump(impatient)
        assert isinstance(to_domain_error(locked.value), ResourceLocked)

        waiting = asyncio.ensure_future(bump(patient))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # queued behind the holder, not failed
        release.set()
        await first
        assert await waiting >= 0.3
        async with patient.reader() as session:
            on_hand = await session.scalar(select(InventoryBalance.on_hand).where(InventoryBalance.id == balance_id))
        assert on_hand == 2
    finally:
        await patient.dispose()
        await impatient.dispose()
