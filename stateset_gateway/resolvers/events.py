"""The event outbox: operations record what changed in their own transaction.

`record_event` adds a `webhook_events` row to the caller's session, so the event commits or rolls
back with the change itself: a rolled-back order emits nothing, a committed one is never lost. The
dispatcher (stateset_gateway/webhooks/) later fans each event out to the endpoints subscribed to
it. The helpers below say which events each kind of change makes, so every operation that makes
that change (whichever module it lives in) emits the same ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway.db.models import InventoryBalance, Order, OrderItem, OrderStatus, WebhookEvent
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import derived, representations

EVENT_TYPES: tuple[str, ...] = (
    "order.created", "order.updated", "order.cancelled", "order.completed",
    "shipment.created", "shipment.shipped", "shipment.delivered",
    "inventory.updated", "inventory.low_stock",
    "return.created", "return.updated", "return.approved", "return.completed",
    "payment.succeeded", "payment.failed", "payment.refunded",
)
PING = "ping"
"""Sent only by the test route, to the one endpoint tested."""


def event_id(raw: uuid.UUID) -> str:
    return f"evt_{raw.hex}"


def new_event(event_type: str, data: Mapping[str, Any], *, webhook_id: uuid.UUID | None = None) -> WebhookEvent:
    """The outbox row, its body (`{"id", "type", "created_at", "data"}`) serialised once: every
    delivery and every retry sends these exact bytes, so signatures stay valid."""
    raw_id = uuid.uuid4()
    created = utcnow()
    body = orjson.dumps({"id": event_id(raw_id), "type": event_type, "created_at": representations.timestamp(created),
                         "data": data})
    return WebhookEvent(id=raw_id, event_type=event_type, body=body.decode(), created_at=created,
                        webhook_id=webhook_id, fanned_out=webhook_id is not None)


async def record_event(session: AsyncSession, event_type: str, data: Mapping[str, Any]) -> None:
    """Add the event to the caller's transaction. `data` is the resource as REST shows it
    (`representations`)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    session.add(new_event(event_type, data))


# ---- what each change emits ----------------------------------------------------------------------

async def _items(session: AsyncSession, order: Order) -> list[Any]:
    rows = await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)
                                 .order_by(OrderItem.created_at, OrderItem.id))
    return list(rows.all())


async def order_created(session: AsyncSession, order: Order, items: Iterable[OrderItem]) -> None:
    lines = sorted(items, key=lambda item: (item.created_at, item.id))
    await record_event(session, "order.created", representations.order(order, lines))


async def order_changed(session: AsyncSession, order: Order, *, was: str,
                        items: Iterable[OrderItem] | None = None) -> None:
    """`order.updated` for any change (status or fields), and `order.cancelled` or `order.completed`
    (delivered) when the status became that. `was` is the status before the operation."""
    lines = sorted(items, key=lambda item: (item.created_at, item.id)) if items is not None \
        else await _items(session, order)
    data = representations.order(order, lines)
    await record_event(session, "order.updated", data)
    if order.status != was:
        if order.status == OrderStatus.CANCELLED:
            await record_event(session, "order.cancelled", data)
        elif order.status == OrderStatus.DELIVERED:
            await record_event(session, "order.completed", data)


async def level_changed(session: AsyncSession, level: InventoryBalance, *, was_low: bool) -> None:
    """`inventory.updated`, and `inventory.low_stock` when available fell to the reorder point or below."""
    data = representations.inventory_level(level)
    await record_event(session, "inventory.updated", data)
    if derived.low_stock(level) and not was_low:
        await record_event(session, "inventory.low_stock", data)


async def levels_changed(session: AsyncSession, changes: Mapping[tuple[uuid.UUID, uuid.UUID], int]) -> None:
    """For levels changed by bulk UPDATEs: read them back (one statement) and emit as `level_changed`.
    `changes` maps (product, location) to how much `available` moved."""
    if not changes:
        return
    B = InventoryBalance
    rows = await session.scalars(select(B).where(B.product_id.in_({product for product, _ in changes}))
                                 .order_by(B.product_id, B.location_id)
                                 .execution_options(populate_existing=True))
    for level in rows.all():
        delta = changes.get((level.product_id, level.location_id))
        if delta is None:
            continue
        await level_changed(session, level, was_low=derived.available(level) - delta <= level.reorder_point)
