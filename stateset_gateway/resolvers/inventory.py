"""Stock: levels per (product, location), reservations, and the moves orders and returns make.

Reserving locks the product's levels (`SELECT ... FOR UPDATE`, in location order) and then takes
stock with a guarded UPDATE, so concurrent orders never oversell: on PostgreSQL a second order waits
for the first and then reads what is left; on SQLite writers are serialised by BEGIN IMMEDIATE.
Every operation that changes several levels touches them in (product, location) order, so two of
them never wait on each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    InventoryBalance,
    InventoryLocation,
    InventoryReservation,
    Product,
    ReservationStatus,
)
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import derived, events, loaders
from stateset_gateway.resolvers.common import get_or_404, parse_id, touch, validate
from stateset_gateway.resolvers.inputs import (
    INT_MAX,
    InventoryAdjust,
    InventoryFilter,
    InventoryReserve,
    LocationCreate,
)
from stateset_gateway.resolvers.pagination import (
    CursorArgs,
    OffsetArgs,
    OffsetPage,
    Page,
    Sort,
    count_of,
    page_of,
    whole_table,
)
from stateset_gateway.resolvers.uniqueness import add_unique

B = InventoryBalance


@dataclass(frozen=True)
class Line:
    """A quantity of a product to take, optionally from one location."""

    product_id: uuid.UUID
    quantity: int
    location_id: uuid.UUID | None = None


# ---- locations -----------------------------------------------------------------------------------

async def create_location(db: Database, data: Any) -> InventoryLocation:
    payload = validate(LocationCreate, data)
    async with db.writer() as session:
        location = InventoryLocation(**payload.model_dump())
        await add_unique(session, location, InventoryLocation.code)
    return location


async def list_locations(db: Database) -> list[loaders.Record]:
    return list(await loaders.rows(db, loaders.ordered_by(InventoryLocation.code)))


# ---- levels --------------------------------------------------------------------------------------

async def get_level(db: Database, level_id: Any) -> loaders.Record:
    return await loaders.one(db, InventoryBalance, level_id, "Inventory level")


def _filtered(filters: InventoryFilter) -> Any:
    stmt = whole_table(B)
    if filters.product_id:
        stmt = stmt.where(B.product_id == filters.product_id)
    if filters.location_id:
        stmt = stmt.where(B.location_id == filters.location_id)
    if filters.low_stock is True:
        stmt = stmt.where(B.on_hand - B.reserved <= B.reorder_point)
    elif filters.low_stock is False:
        stmt = stmt.where(B.on_hand - B.reserved > B.reorder_point)
    return stmt


async def list_levels(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs, fields: loaders.Fields = None
) -> Page[InventoryBalance] | OffsetPage[InventoryBalance]:
    return await page_of(db, _filtered(validate(InventoryFilter, filters or {})), Sort(B.created_at), B.id, args,
                         fields)


async def count_levels(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(InventoryFilter, filters or {})))


async def adjust_inventory(db: Database, data: Any) -> InventoryBalance:
    """Receive (delta > 0) or write off (delta < 0) stock; never below what is reserved."""
    payload = validate(InventoryAdjust, data)
    async with db.writer() as session:
        await get_or_404(session, Product, payload.product_id, "Product")
        await get_or_404(session, InventoryLocation, payload.location_id, "Location")
        balance = await session.scalar(
            select(B).where(B.product_id == payload.product_id, B.location_id == payload.location_id)
            .with_for_update()
        )
        if balance is None:
            balance = B(product_id=payload.product_id, location_id=payload.location_id, on_hand=0, reserved=0)
            session.add(balance)
        was_low = derived.low_stock(balance)
        new_on_hand = balance.on_hand + payload.delta
        if new_on_hand > INT_MAX:  # what the column holds
            raise errors.ValidationFailed.field("delta", f"Would take on_hand above {INT_MAX}")
        if new_on_hand < balance.reserved:
            raise errors.InsufficientInventory(payload.product_id, -payload.delta, balance.on_hand - balance.reserved)
        balance.on_hand = new_on_hand
        if payload.reorder_point is not None:
            balance.reorder_point = payload.reorder_point
        touch(balance)
        await events.level_changed(session, balance, was_low=was_low)
    return balance


# ---- reservations --------------------------------------------------------------------------------

async def _lock_levels(session: AsyncSession, products: Iterable[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], list[int]]:
    """Every stock row of these products, locked in one statement, in (product, location) order: the
    order every stock change locks them in, so a concurrent order, cancel or shipment waits its turn
    instead of deadlocking. -> {(product, location): [on_hand, reserved]}."""
    stmt = (select(B.product_id, B.location_id, B.on_hand, B.reserved)
            .where(B.product_id.in_(sorted(set(products), key=str)))
            .order_by(B.product_id, B.location_id).with_for_update())
    return {(row.product_id, row.location_id): [row.on_hand, row.reserved] for row in await session.execute(stmt)}


def take(levels: dict[tuple[uuid.UUID, uuid.UUID], list[int]], line: Line) -> list[tuple[uuid.UUID, int]]:
    """Reserve `line.quantity` in `levels`, from its location or greedily from the fullest ones;
    (location, quantity) taken. `levels` is updated, so later lines see what earlier ones took."""
    candidates = sorted(((location, level) for (product, location), level in levels.items()
                         if product == line.product_id and line.location_id in (None, location)),
                        key=lambda item: (item[1][1] - item[1][0], str(item[0])))
    available = sum(max(on_hand - reserved, 0) for _, (on_hand, reserved) in candidates)
    if available < line.quantity:
        raise errors.InsufficientInventory(line.product_id, line.quantity, available)
    taken: list[tuple[uuid.UUID, int]] = []
    need = line.quantity
    for location, level in candidates:
        qty = min(need, level[0] - level[1])
        if qty <= 0:
            break
        level[1] += qty
        taken.append((location, qty))
        need -= qty
        if need == 0:
            break
    return taken


async def reserve_lines(
    session: AsyncSession, lines: Sequence[Line], *, order_id: uuid.UUID | None = None, reference: str | None = None
) -> list[InventoryReservation]:
    """Reserve every line or raise INSUFFICIENT_INVENTORY; the caller's transaction makes it all-or-nothing.

    A constant number of statements whatever the number of lines: one locks every row involved, one
    (an executemany) raises their `reserved` counters, and the reservations go in with one insert.
    """
    merged: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for line in lines:
        merged[(line.product_id, line.location_id)] = merged.get((line.product_id, line.location_id), 0) + line.quantity
    levels = await _lock_levels(session, (product for product, _ in merged))
    reservations = []
    counters: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for (product_id, location_id), quantity in sorted(merged.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        for taken_location, qty in take(levels, Line(product_id, quantity, location_id)):
            counters[(product_id, taken_location)] = counters.get((product_id, taken_location), 0) + qty
            reservation = InventoryReservation(product_id=product_id, location_id=taken_location, quantity=qty,
                                               order_id=order_id, reference=reference)
            session.add(reservation)
            reservations.append(reservation)
    if counters:
        connection = await session.connection()
        await connection.execute(
            update(B)
            .where(B.product_id == bindparam("p"), B.location_id == bindparam("l"),
                   B.on_hand - B.reserved >= bindparam("q"))  # holds under the lock; kept as a guard for SQLite
            .values(reserved=B.reserved + bindparam("q"), version=B.version + 1, updated_at=utcnow()),
            [{"p": p, "l": loc, "q": q} for (p, loc), q in sorted(counters.items(), key=lambda kv: str(kv[0]))],
        )
        await events.levels_changed(session, {key: -q for key, q in counters.items()})
    await session.flush()
    return reservations


async def _finish(session: AsyncSession, reservations: Iterable[InventoryReservation], status: str) -> None:
    """Release (stock back to available) or consume (stock leaves on_hand) active reservations."""
    changes: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for res in sorted(reservations, key=lambda r: (str(r.product_id), str(r.location_id))):
        if res.status != ReservationStatus.ACTIVE:
            continue
        key = (res.product_id, res.location_id)
        changes[key] = changes.get(key, 0) + (0 if status == ReservationStatus.CONSUMED else res.quantity)
        values: dict[str, Any] = {"reserved": B.reserved - res.quantity, "version": B.version + 1,
                                  "updated_at": utcnow()}
        if status == ReservationStatus.CONSUMED:
            values["on_hand"] = B.on_hand - res.quantity
        await session.execute(
            update(B).where(B.product_id == res.product_id, B.location_id == res.location_id).values(**values)
        )
        res.status = status
        touch(res)
    await events.levels_changed(session, changes)


async def _order_reservations(session: AsyncSession, order_id: uuid.UUID) -> list[InventoryReservation]:
    return list((await session.scalars(
        select(InventoryReservation).where(
            InventoryReservation.order_id == order_id, InventoryReservation.status == ReservationStatus.ACTIVE
        ).with_for_update()
    )).all())


async def release_for_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    await _finish(session, await _order_reservations(session, order_id), ReservationStatus.RELEASED)


async def consume_for_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    await _finish(session, await _order_reservations(session, order_id), ReservationStatus.CONSUMED)


async def restock(session: AsyncSession, product_id: uuid.UUID, quantity: int, location_id: uuid.UUID | None) -> None:
    """Put returned stock back on hand: at the given location, else where the product has stock."""
    stmt = select(B).where(B.product_id == product_id)
    if location_id:
        stmt = stmt.where(B.location_id == location_id)
    balance = await session.scalar(stmt.order_by(B.created_at).limit(1).with_for_update())
    if balance is None:
        location = await session.scalar(select(InventoryLocation).order_by(InventoryLocation.code).limit(1))
        if location is None:
            raise errors.ValidationFailed.field("location_id", "No inventory location exists to restock into")
        balance = B(product_id=product_id, location_id=location_id or location.id, on_hand=0, reserved=0)
        session.add(balance)
    was_low = derived.low_stock(balance)
    balance.on_hand += quantity
    touch(balance)
    await events.level_changed(session, balance, was_low=was_low)


async def reserve_inventory(db: Database, data: Any) -> InventoryReservation:
    """A manual hold (not tied to an order): e.g. stock promised to a marketplace."""
    payload = validate(InventoryReserve, data)
    async with db.writer() as session:
        await get_or_404(session, Product, payload.product_id, "Product")
        reservations = await reserve_lines(
            session, [Line(payload.product_id, payload.quantity, payload.location_id)], reference=payload.reference
        )
        if len(reservations) > 1:  # a manual hold is one row at one location
            raise errors.InsufficientInventory(
                payload.product_id, payload.quantity, max(r.quantity for r in reservations)
            )
    return reservations[0]


async def release_inventory(db: Database, reservation_id: Any) -> InventoryReservation:
    async with db.writer() as session:
        res = await get_or_404(session, InventoryReservation, reservation_id, "Reservation", lock=True)
        if res.status != ReservationStatus.ACTIVE:
            raise errors.InvalidStatusTransition(res.status, ReservationStatus.RELEASED, [])
        if res.order_id is not None:  # else shipping the order would no longer consume its stock
            raise errors.ValidationFailed.field(
                "reservation_id", "This reservation belongs to an order: cancel the order to release it")
        await _finish(session, [res], ReservationStatus.RELEASED)
    return res


async def list_reservations(
    db: Database, *, product_id: Any = None, order_id: Any = None, status: str | None = None,
    args: CursorArgs | OffsetArgs,
) -> Page[InventoryReservation] | OffsetPage[InventoryReservation]:
    R = InventoryReservation
    stmt = whole_table(R)
    if product_id:
        stmt = stmt.where(R.product_id == parse_id(product_id, "product_id"))
    if order_id:
        stmt = stmt.where(R.order_id == parse_id(order_id, "order_id"))
    if status:
        if status not in set(ReservationStatus):
            raise errors.ValidationFailed.field("status", f"Must be one of {', '.join(ReservationStatus)}")
        stmt = stmt.where(R.status == status)
    return await page_of(db, stmt, Sort(R.created_at), R.id, args)
