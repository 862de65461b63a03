"""Shipments: created for an order, shipped (consuming its stock), delivered (starting the return window)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order, OrderStatus, Shipment, ShipmentStatus
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import events, loaders, representations
from stateset_gateway.resolvers.common import get_or_404, validate
from stateset_gateway.resolvers.inputs import ShipmentCreate, ShipmentFilter
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
from stateset_gateway.resolvers.transitions import FULFILLED, ORDER, SHIPMENT, apply_transition
from stateset_gateway.resolvers.uniqueness import add_unique

KIND = "Shipment"
SHIPPABLE = {OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PROCESSING}


async def get_shipment(db: Database, shipment_id: Any, fields: loaders.Fields = None) -> loaders.Record:
    return await loaders.one(db, Shipment, shipment_id, KIND, fields)


async def track_shipment(db: Database, tracking_number: str, fields: loaders.Fields = None) -> loaders.Record:
    shipment = await loaders.first_where(db, Shipment.tracking_number, tracking_number.strip(), fields)
    if shipment is None:
        raise errors.NotFound(f"Shipment with tracking number {tracking_number} not found",
                              {"resource": KIND, "tracking_number": tracking_number})
    return shipment


def _check_shippable(order: Order) -> None:
    if order.status in FULFILLED:
        raise errors.OrderAlreadyFulfilled(f"Order is already {order.status}")
    if order.status not in SHIPPABLE:
        raise errors.InvalidStatusTransition(order.status, OrderStatus.SHIPPED, ORDER.allowed(order.status))


async def create_shipment(db: Database, data: Any) -> Shipment:
    payload = validate(ShipmentCreate, data)
    async with db.writer() as session:
        order = await get_or_404(session, Order, payload.order_id, "Order", lock=True)
        _check_shippable(order)
        shipment = Shipment(**payload.model_dump())
        await add_unique(session, shipment, Shipment.tracking_number)
        await events.record_event(session, "shipment.created", representations.shipment(shipment))
    return shipment


async def mark_shipped(db: Database, shipment_id: Any) -> Shipment:
    """Ship: a pending or confirmed order first moves to processing, then to shipped, consuming its stock."""
    async with db.writer() as session:
        shipment = await get_or_404(session, Shipment, shipment_id, KIND, lock=True)
        await _ship(session, shipment)
    return shipment


async def ship_order(db: Database, order_id: Any, *, carrier: str, tracking_number: str,
                     shipped_at: datetime | None = None) -> Shipment:
    """Create the order's shipment and ship it, in one transaction: either the order is shipped with
    its parcel, or nothing is written. `shipped_at` records a hand-over already past (default now)."""
    payload = validate(ShipmentCreate, {"order_id": order_id, "carrier": carrier, "tracking_number": tracking_number})
    if shipped_at is not None and shipped_at > utcnow():
        raise errors.ValidationFailed.field("shipped_at", "Must not be in the future")
    async with db.writer() as session:
        order = await get_or_404(session, Order, payload.order_id, "Order", lock=True)
        _check_shippable(order)
        shipment = Shipment(**payload.model_dump())
        await add_unique(session, shipment, Shipment.tracking_number)
        await events.record_event(session, "shipment.created", representations.shipment(shipment))
        await _ship(session, shipment, order, shipped_at=shipped_at)
    return shipment


async def _ship(session: AsyncSession, shipment: Shipment, order: Order | None = None, *,
                shipped_at: datetime | None = None) -> None:
    await apply_transition(session, SHIPMENT, shipment, ShipmentStatus.SHIPPED)
    if shipped_at is not None:
        shipment.shipped_at = shipped_at
    await events.record_event(session, "shipment.shipped", representations.shipment(shipment))
    if order is None:
        order = await get_or_404(session, Order, shipment.order_id, "Order", lock=True)
    if order.status != OrderStatus.SHIPPED:  # a second parcel of an already shipped order
        _check_shippable(order)
        was = order.status
        if order.status != OrderStatus.PROCESSING:
            await apply_transition(session, ORDER, order, OrderStatus.PROCESSING)
        await apply_transition(session, ORDER, order, OrderStatus.SHIPPED)
        await events.order_changed(session, order, was=was)


async def mark_delivered(db: Database, shipment_id: Any) -> Shipment:
    async with db.writer() as session:
        shipment = await get_or_404(session, Shipment, shipment_id, KIND, lock=True)
        await apply_transition(session, SHIPMENT, shipment, ShipmentStatus.DELIVERED)
        await events.record_event(session, "shipment.delivered", representations.shipment(shipment))
        order = await get_or_404(session, Order, shipment.order_id, "Order", lock=True)
        if order.status == OrderStatus.SHIPPED:
            await apply_transition(session, ORDER, order, OrderStatus.DELIVERED)
            await events.order_changed(session, order, was=OrderStatus.SHIPPED)
    return shipment


def _filtered(filters: ShipmentFilter) -> Any:
    stmt = whole_table(Shipment)
    if filters.order_id:
        stmt = stmt.where(Shipment.order_id == filters.order_id)
    if filters.status:
        stmt = stmt.where(Shipment.status == filters.status)
    return stmt


async def list_shipments(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs
) -> Page[Shipment] | OffsetPage[Shipment]:
    return await page_of(db, _filtered(validate(ShipmentFilter, filters or {})), Sort(Shipment.created_at),
                         Shipment.id, args)


async def count_shipments(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(ShipmentFilter, filters or {})))
