"""Order operations: create (reserving stock), update, status changes and cancelling (along the order
machine of `transitions`), add items."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    Customer,
    InventoryReservation,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Product,
    Return,
    Shipment,
)
from stateset_gateway.resolvers import events, inventory, loaders
from stateset_gateway.resolvers.common import check_version, get_or_404, parse_id, touch, validate
from stateset_gateway.resolvers.inputs import (
    OrderCreate,
    OrderFilter,
    OrderLineInput,
    OrderSortField,
    OrderUpdate,
    dump,
)
from stateset_gateway.resolvers.pagination import (
    CursorArgs,
    OffsetArgs,
    OffsetPage,
    Page,
    PageLimits,
    Sort,
    count_of,
    page_of,
    row_cursor,
    whole_table,
)
from stateset_gateway.resolvers.money import MONEY_MAX
from stateset_gateway.resolvers.pricing import line_total, order_totals
from stateset_gateway.resolvers.transitions import FULFILLED, HOLDS_STOCK, ORDER, apply_transition

KIND = "Order"


def new_order_number() -> str:
    return f"ORD-{secrets.token_hex(4).upper()}"


async def get_order(db: Database, order_id: Any, fields: loaders.Fields = None) -> loaders.Record:
    return await loaders.one(db, Order, order_id, KIND, fields)


async def get_order_by_number(db: Database, order_number: str, fields: loaders.Fields = None) -> loaders.Record:
    order = await loaders.first_where(db, Order.order_number, order_number.strip().upper(), fields)
    if order is None:
        raise errors.NotFound(f"Order {order_number} not found", {"resource": KIND, "order_number": order_number})
    return order


async def _products(session: AsyncSession, lines: list[OrderLineInput]) -> dict[uuid.UUID, Product]:
    ids = {line.product_id for line in lines}
    products = {p.id: p for p in (await session.scalars(select(Product).where(Product.id.in_(ids)))).all()}
    missing = [str(pid) for pid in ids if pid not in products]
    if missing:
        raise errors.NotFound(f"Product {missing[0]} not found", {"resource": "Product", "id": missing[0]})
    inactive = [str(pid) for pid, p in products.items() if not p.is_active]
    if inactive:
        raise errors.ValidationFailed.field("items", f"Product {inactive[0]} is not available for sale")
    return products


def _recompute_totals(order: Order, items: list[OrderItem]) -> None:
    order.subtotal, order.total = order_totals((item.line_total for item in items), tax=order.tax_total,
                                               shipping=order.shipping_total, discount=order.discount_total)
    if max(order.subtotal, order.total, *(item.line_total for item in items)) > MONEY_MAX:
        raise errors.ValidationFailed.field("items", f"Order amounts must stay at most {MONEY_MAX}")


async def create_order(db: Database, data: Any, *, default_currency: str) -> Order:
    """Price every line from the catalogue and reserve its stock, all in one transaction or nothing.
    `default_currency` (a business setting) is the currency when the request names none and its
    products are priced in several."""
    payload = validate(OrderCreate, data)
    async with db.writer() as session:
        await get_or_404(session, Customer, payload.customer_id, "Customer")
        products = await _products(session, payload.items)
        currencies = {p.currency for p in products.values()}
        currency = payload.currency or (currencies.pop() if len(currencies) == 1 else default_currency)
        if any(p.currency != currency for p in products.values()):
            raise errors.ValidationFailed.field("currency", f"All products must be priced in {currency}")
        order = Order(
            order_number=new_order_number(),
            customer_id=payload.customer_id,
            currency=currency,
            shipping_address=payload.shipping_address.model_dump() if payload.shipping_address else None,
            billing_address=payload.billing_address.model_dump() if payload.billing_address else None,
            notes=payload.notes,
        )
        items = [
            OrderItem(order_id=order.id, product_id=line.product_id, sku=products[line.product_id].sku,
                      name=products[line.product_id].name, quantity=line.quantity,
                      unit_price=products[line.product_id].price,
                      line_total=line_total(products[line.product_id].price, line.quantity))
            for line in payload.items
        ]
        _recompute_totals(order, items)
        await _insert_with_unique_number(session, order)
        session.add_all(items)
        await inventory.reserve_lines(
            session, [inventory.Line(line.product_id, line.quantity, line.location_id) for line in payload.items],
            order_id=order.id,
        )
        await events.order_created(session, order, items)
    return order


async def _insert_with_unique_number(session: AsyncSession, order: Order) -> None:
    """Order numbers are random: on the rare collision, draw another (a savepoint keeps the rest)."""
    for _ in range(5):
        try:
            async with session.begin_nested():
                session.add(order)
                await session.flush([order])
            return
        except sa_exc.IntegrityError as exc:
            if "order_number" not in str(exc.orig).lower():
                raise
            order.order_number = new_order_number()
    raise errors.DuplicateEntry("order_number", order.order_number)


async def update_order(db: Database, order_id: Any, data: Any) -> Order:
    payload = validate(OrderUpdate, data)
    changes = dump(payload)
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, KIND, lock=True)
        check_version(order, payload.expected_version)
        if order.status in FULFILLED:
            raise errors.OrderAlreadyFulfilled(f"Order is already {order.status} and can no longer be modified")
        for key, value in changes.items():
            setattr(order, key, value)
        if changes:
            touch(order)
            await events.order_changed(session, order, was=order.status)
    return order


async def update_order_status(db: Database, order_id: Any, status: str, expected_version: int | None = None) -> Order:
    if status not in set(OrderStatus):
        raise errors.ValidationFailed.field("status", f"Must be one of: {', '.join(OrderStatus)}")
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, KIND, lock=True)
        check_version(order, expected_version)
        was = order.status
        await apply_transition(session, ORDER, order, status)
        await events.order_changed(session, order, was=was)
    return order


async def cancel_order(db: Database, order_id: Any, reason: str | None = None) -> Order:
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, KIND, lock=True)
        was = order.status
        await apply_transition(session, ORDER, order, OrderStatus.CANCELLED)
        if reason:
            prefix = f"{order.notes}\n" if order.notes else ""
            order.notes = (prefix + f"Cancelled: {reason.strip()[:500]}")[-4000:]
        await events.order_changed(session, order, was=was)
    return order


async def delete_order(db: Database, order_id: Any) -> None:
    """Only orders that never left the warehouse may be erased; their stock is released first."""
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, KIND, lock=True)
        if order.status in FULFILLED:
            raise errors.OrderAlreadyFulfilled(f"Order is already {order.status} and cannot be deleted")
        if order.status not in (OrderStatus.PENDING, OrderStatus.CANCELLED):
            raise errors.ValidationFailed.field("status", "Only pending or cancelled orders can be deleted")
        if await session.scalar(select(func.count()).where(Shipment.order_id == order.id)) or \
                await session.scalar(select(func.count()).where(Return.order_id == order.id)):
            raise errors.ValidationFailed.field("id", "Order has shipments or returns and cannot be deleted")
        if await session.scalar(select(func.count()).where(Payment.order_id == order.id)):
            raise errors.ValidationFailed.field("id", "Order has payments on record and cannot be deleted")
        await inventory.release_for_order(session, order.id)
        for res in (await session.scalars(
            select(InventoryReservation).where(InventoryReservation.order_id == order.id)
        )).all():
            res.order_id = None
            res.reference = f"deleted order {order.order_number}"
        for item in (await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all():
            await session.delete(item)
        await session.flush()
        await session.delete(order)


async def add_order_item(db: Database, order_id: Any, data: Any) -> Order:
    line = validate(OrderLineInput, data)
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, KIND, lock=True)
        if order.status in FULFILLED:
            raise errors.OrderAlreadyFulfilled(f"Order is already {order.status} and can no longer be modified")
        if order.status not in HOLDS_STOCK:
            raise errors.ValidationFailed.field("status", f"Items can only be added to open orders (order is "
                                                          f"{order.status})")
        if order.payment_status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            # Its payment holds or took the old total; a new line would go unpaid.
            raise errors.PaymentAlreadyProcessed(f"Order is already {order.payment_status}: its items can no longer "
                                                 f"change", {"order_id": str(order.id),
                                                             "payment_status": order.payment_status})
        product = (await _products(session, [line]))[line.product_id]
        if product.currency != order.currency:
            raise errors.ValidationFailed.field("product_id", f"Product is priced in {product.currency}, "
                                                              f"the order in {order.currency}")
        items = list((await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id))).all())
        item = OrderItem(order_id=order.id, product_id=product.id, sku=product.sku, name=product.name,
                         quantity=line.quantity, unit_price=product.price,
                         line_total=line_total(product.price, line.quantity))
        session.add(item)
        await inventory.reserve_lines(session, [inventory.Line(product.id, line.quantity, line.location_id)],
                                      order_id=order.id)
        _recompute_totals(order, [*items, item])
        touch(order)
        await events.order_changed(session, order, was=order.status, items=[*items, item])
    return order


async def list_order_items(db: Database, order_id: Any) -> list[OrderItem]:
    await get_order(db, order_id)
    return (await loaders.items_by_order(db, [parse_id(order_id)]))[0]


async def get_order_with_items(db: Database, order_id: Any) -> tuple[Order, list[OrderItem]]:
    """An order and its lines, for clients that show an order whole (REST GET /orders/{id}): two reads."""
    order = await get_order(db, order_id)
    return order, (await loaders.items_by_order(db, [order.id]))[0]


# ---- queries -------------------------------------------------------------------------------------

SORT_COLUMNS = {
    OrderSortField.CREATED_AT: Order.created_at,
    OrderSortField.UPDATED_AT: Order.updated_at,
    OrderSortField.TOTAL: Order.total,
    OrderSortField.ORDER_NUMBER: Order.order_number,
}


def _filtered(filters: OrderFilter) -> Any:
    stmt = whole_table(Order)
    if filters.status:
        stmt = stmt.where(Order.status == filters.status)
    if filters.customer_id:
        stmt = stmt.where(Order.customer_id == filters.customer_id)
    if filters.created_from:
        stmt = stmt.where(Order.created_at >= filters.created_from)
    if filters.created_to:
        stmt = stmt.where(Order.created_at <= filters.created_to)
    if filters.search:
        term = filters.search.strip()
        customers = select(Customer.id).where(func.lower(Customer.email).like(f"%{term.lower()}%"))
        stmt = stmt.where(or_(Order.order_number.like(f"%{term.upper()}%"), Order.customer_id.in_(customers)))
    return stmt


def order_sort(field: str | None, order: str | None) -> Sort:
    try:
        column = SORT_COLUMNS[OrderSortField(field or OrderSortField.CREATED_AT)]
    except ValueError:
        raise errors.ValidationFailed.field("sort_by", f"Must be one of: {', '.join(OrderSortField)}") from None
    direction = (order or "desc").lower()
    if direction not in ("asc", "desc"):
        raise errors.ValidationFailed.field("sort_order", "Must be asc or desc")
    return Sort(column, descending=direction == "desc")


async def list_orders(
    db: Database,
    filters: Any = None,
    *,
    sort_by: str | None = None,
    sort_order: str | None = None,
    args: CursorArgs | OffsetArgs,
    fields: loaders.Fields = None,
) -> Page[Order] | OffsetPage[Order]:
    return await page_of(db, _filtered(validate(OrderFilter, filters or {})), order_sort(sort_by, sort_order),
                         Order.id, args, fields)


async def count_orders(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(OrderFilter, filters or {})))


async def list_orders_with_items(
    db: Database,
    filters: Any = None,
    *,
    sort_by: str | None = None,
    sort_order: str | None = None,
    args: CursorArgs | OffsetArgs,
) -> tuple[Page[Order] | OffsetPage[Order], list[list[OrderItem]]]:
    """A page of orders and each one's lines (in page order) through one batch load, so the number of
    statements does not grow with the page size (REST `include_items=true`)."""
    page = await list_orders(db, filters, sort_by=sort_by, sort_order=sort_order, args=args)
    items = await loaders.items_by_order(db, [order.id for order in page.items]) if page.items else []
    return page, items


async def customer_orders_page(
    db: Database,
    customer_id: uuid.UUID,
    first: int | None,
    after: str | None,
    *,
    limits: PageLimits,
    load_first_page: Callable[[tuple[uuid.UUID, int]], Awaitable[list[Any]]],
) -> Page[Any]:
    """One customer's orders, newest first. The first page goes through `load_first_page`, a batch of
    `loaders.recent_orders_by_customer` keyed by (customer, size), so a page of customers costs one
    windowed query for all their first pages; a later page (`after`) is an ordinary keyset page."""
    if after is not None:
        page = await list_orders(db, {"customer_id": customer_id}, args=CursorArgs(first=first, after=after, limits=limits))
        assert isinstance(page, Page)  # cursor arguments give a cursor page
        return page
    size = first if first is not None else limits.default_size
    if not 0 <= size <= limits.max_size:
        raise errors.ValidationFailed.field("first", f"Must be between 0 and {limits.max_size}")
    rows = await load_first_page((customer_id, size))
    return Page(items=rows[:size], has_next_page=len(rows) > size, has_previous_page=False,
                cursor_of=row_cursor("created_at"))
