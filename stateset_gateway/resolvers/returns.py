"""Returns: requested within the window after delivery, then approved or rejected, received, restocked, refunded."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    InventoryReservation,
    Order,
    OrderItem,
    OrderStatus,
    Return,
    ReturnItem,
    ReturnStatus,
)
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import events, inventory, loaders, payments, representations
from stateset_gateway.resolvers.common import get_or_404, validate
from stateset_gateway.resolvers.inputs import ReturnCreate, ReturnFilter
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
from stateset_gateway.resolvers.payment_providers import PaymentProvider
from stateset_gateway.resolvers.transitions import ORDER, RETURN, apply_transition

KIND = "Return"
R = ReturnStatus


async def get_return(db: Database, return_id: Any, fields: loaders.Fields = None) -> loaders.Record:
    return await loaders.one(db, Return, return_id, KIND, fields)


async def create_return(db: Database, data: Any, *, return_window_days: int) -> Return:
    """Open a return for a delivered order, within `return_window_days` of its delivery (a business
    setting the caller passes)."""
    payload = validate(ReturnCreate, data)
    window = return_window_days
    async with db.writer() as session:
        order = await get_or_404(session, Order, payload.order_id, "Order", lock=True)
        if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
            raise errors.ValidationFailed.field("order_id", f"Only delivered orders can be returned (order is "
                                                            f"{order.status})")
        if utcnow() > order.delivered_at + timedelta(days=window):
            raise errors.ReturnWindowExpired(
                f"Returns are accepted up to {window} days after delivery",
                {"delivered_at": order.delivered_at.isoformat(), "return_window_days": window},
            )
        items = {i.id: i for i in (await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all()}
        already = dict((await session.execute(
            select(ReturnItem.order_item_id, func.sum(ReturnItem.quantity))
            .join(Return, Return.id == ReturnItem.return_id)
            .where(Return.order_id == order.id, Return.status != ReturnStatus.REJECTED)
            .group_by(ReturnItem.order_item_id)
        )).all())
        problems: dict[str, list[str]] = {}
        refund = Decimal("0.00")
        requested: dict[uuid.UUID, int] = {}
        for line in payload.items:
            requested[line.order_item_id] = requested.get(line.order_item_id, 0) + line.quantity
        for n, (item_id, qty) in enumerate(requested.items()):
            item = items.get(item_id)
            if item is None:
                problems.setdefault(f"items.{n}.order_item_id", []).append("Not an item of this order")
                continue
            returnable = item.quantity - int(already.get(item_id, 0))
            if qty > returnable:
                problems.setdefault(f"items.{n}.quantity", []).append(f"At most {returnable} can be returned")
            refund += item.unit_price * qty
        if problems:
            raise errors.ValidationFailed(problems)
        ret = Return(order_id=order.id, reason=payload.reason, refund_amount=refund.quantize(Decimal("0.01")))
        session.add(ret)
        await session.flush([ret])
        session.add_all([ReturnItem(return_id=ret.id, order_item_id=item_id, product_id=items[item_id].product_id,
                                    quantity=qty) for item_id, qty in requested.items()])
        await events.record_event(session, "return.created", representations.return_(ret))
    return ret


async def _advance(db: Database, return_id: Any, target: str, provider: PaymentProvider | None = None) -> Return:
    async with db.writer() as session:
        ret = await get_or_404(session, Return, return_id, KIND, lock=True)
        await apply_transition(session, RETURN, ret, target)
        if target == R.RESTOCKED:
            lines = (await session.scalars(select(ReturnItem).where(ReturnItem.return_id == ret.id))).all()
            for line in sorted(lines, key=lambda item: str(item.product_id)):  # the lock order stock uses
                # Back to where the order's stock came from, when we know it.
                location = await session.scalar(
                    select(InventoryReservation.location_id).where(
                        InventoryReservation.order_id == ret.order_id,
                        InventoryReservation.product_id == line.product_id,
                    ).limit(1)
                )
                await inventory.restock(session, line.product_id, line.quantity, location)
        if target == R.REFUNDED:
            assert provider is not None, "a refund goes through the payment provider"
            order = await get_or_404(session, Order, ret.order_id, "Order", lock=True)
            # The money goes back through the order's payment (which settles its payment_status,
            # an order.updated of its own); the rest of a partly returned order stays delivered,
            # and returnable.
            await payments.refund_order(session, provider, order, ret.refund_amount)
            was = (order.status, order.version)
            if await _fully_refunded(session, order.id, also=ret.id):
                if ORDER.allows(order.status, OrderStatus.REFUNDED):
                    await apply_transition(session, ORDER, order, OrderStatus.REFUNDED)
            if order.version != was[1]:
                await events.order_changed(session, order, was=was[0])
        data = representations.return_(ret)
        await events.record_event(session, "return.updated", data)
        if target in RETURN_EVENTS:
            await events.record_event(session, RETURN_EVENTS[target], data)
    return ret


# A return's own event besides `return.updated`: approved, and completed once refunded (its last step).
RETURN_EVENTS = {R.APPROVED: "return.approved", R.REFUNDED: "return.completed"}


async def _fully_refunded(session: AsyncSession, order_id: uuid.UUID, *, also: uuid.UUID) -> bool:
    """Whether every unit of the order is covered by refunded returns (counting `also`, being refunded)."""
    ordered = await session.scalar(select(func.coalesce(func.sum(OrderItem.quantity), 0))
                                   .where(OrderItem.order_id == order_id))
    refunded = await session.scalar(
        select(func.coalesce(func.sum(ReturnItem.quantity), 0))
        .join(Return, Return.id == ReturnItem.return_id)
        .where(Return.order_id == order_id, or_(Return.status == R.REFUNDED, Return.id == also))
    )
    return int(refunded or 0) >= int(ordered or 0)


async def approve_return(db: Database, return_id: Any) -> Return:
    return await _advance(db, return_id, R.APPROVED)


async def reject_return(db: Database, return_id: Any) -> Return:
    return await _advance(db, return_id, R.REJECTED)


async def receive_return(db: Database, return_id: Any) -> Return:
    return await _advance(db, return_id, R.RECEIVED)


async def restock_return(db: Database, return_id: Any) -> Return:
    """Received goods go back on hand, available for new orders."""
    return await _advance(db, return_id, R.RESTOCKED)


async def refund_return(db: Database, return_id: Any, *, provider: PaymentProvider) -> Return:
    """Give the return's `refund_amount` back through the order's payment (422
    PAYMENT_ALREADY_PROCESSED when it holds less than that)."""
    return await _advance(db, return_id, R.REFUNDED, provider)


def _filtered(filters: ReturnFilter) -> Any:
    stmt = whole_table(Return)
    if filters.order_id:
        stmt = stmt.where(Return.order_id == filters.order_id)
    if filters.status:
        stmt = stmt.where(Return.status == filters.status)
    return stmt


async def list_returns(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs, fields: loaders.Fields = None
) -> Page[Return] | OffsetPage[Return]:
    return await page_of(db, _filtered(validate(ReturnFilter, filters or {})), Sort(Return.created_at), Return.id,
                         args, fields)


async def count_returns(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(ReturnFilter, filters or {})))
