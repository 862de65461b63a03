"""Batch loads: one `IN (...)` query per batch of keys, results in key order, one entry per key.

GraphQL wraps these in per-request DataLoaders (schema/context.py); REST calls them directly for
includes (`?include_items=true`). A nested query therefore costs one statement per level.

They return plain rows, not ORM instances: a nested page loads hundreds of rows, and building an ORM
instance per row (identity map, instance state, SQLModel's pydantic set-up) cost more CPU than the
query. A row has the model's attribute names and values (the same column types convert them), which
is all a reader needs; nothing here is modified or flushed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Row, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import SQLModel

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    Customer,
    CustomerAddress,
    InventoryBalance,
    InventoryLocation,
    Order,
    OrderItem,
    Payment,
    Product,
    Return,
    ReturnItem,
    Shipment,
)

T = TypeVar("T", bound=SQLModel)


@cache
def columns(model: type[SQLModel]) -> tuple[Any, ...]:
    """Every mapped column of `model`, labelled with its attribute name: `select(*columns(Order))`
    yields rows that read like `Order` instances (`row.id`, `row.order_number`, ...)."""
    return tuple(prop.columns[0].label(prop.key) for prop in sa_inspect(model).column_attrs)


async def by_id(db: Database, model: type[T], keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    async with db.reader() as session:
        rows = (await session.execute(select(*columns(model)).where(model.id.in_(set(keys))))).all()  # type: ignore[attr-defined]
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


async def grouped_by(
    db: Database, column: InstrumentedAttribute[Any], keys: Sequence[Any], *order_by: Any
) -> list[list[Any]]:
    model = column.class_
    async with db.reader() as session:
        rows = (await session.execute(select(*columns(model)).where(column.in_(set(keys))).order_by(*order_by))).all()
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    for row in rows:
        groups[getattr(row, column.key)].append(row)
    return [groups[key] for key in keys]


async def customers(db: Database, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    return await by_id(db, Customer, keys)


async def products(db: Database, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    return await by_id(db, Product, keys)


async def orders(db: Database, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    return await by_id(db, Order, keys)


async def locations(db: Database, keys: Sequence[uuid.UUID]) -> list[Row[Any] | None]:
    return await by_id(db, InventoryLocation, keys)


async def items_by_order(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, OrderItem.order_id, keys, OrderItem.created_at, OrderItem.id)


async def levels_by_product(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, InventoryBalance.product_id, keys, InventoryBalance.created_at, InventoryBalance.id)


async def shipments_by_order(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, Shipment.order_id, keys, Shipment.created_at, Shipment.id)


async def returns_by_order(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, Return.order_id, keys, Return.created_at, Return.id)


async def items_by_return(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, ReturnItem.return_id, keys, ReturnItem.id)


async def addresses_by_customer(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, CustomerAddress.customer_id, keys, CustomerAddress.id)


async def order_counts_by_customer(db: Database, keys: Sequence[uuid.UUID]) -> list[int]:
    async with db.reader() as session:
        rows = (await session.execute(
            select(Order.customer_id, func.count()).where(Order.customer_id.in_(set(keys))).group_by(Order.customer_id)
        )).all()
    counts = dict(rows)
    return [int(counts.get(key, 0)) for key in keys]


async def recent_orders_by_customer(db: Database, keys: Sequence[tuple[uuid.UUID, int]]) -> list[list[Row[Any]]]:
    """The newest `n` orders of each customer in one query (a window per customer)."""
    limit = max(n for _, n in keys) if keys else 0
    ids = {customer_id for customer_id, _ in keys}
    rank = func.row_number().over(partition_by=Order.customer_id,
                                  order_by=(Order.created_at.desc(), Order.id.desc())).label("rank")
    ranked = select(Order.id, rank).where(Order.customer_id.in_(ids)).subquery()
    async with db.reader() as session:
        rows = (await session.execute(
            select(*columns(Order)).join(ranked, ranked.c.id == Order.id).where(ranked.c.rank <= limit + 1)
            .order_by(Order.created_at.desc(), Order.id.desc())
        )).all()
    groups: dict[uuid.UUID, list[Any]] = {key: [] for key in ids}
    for row in rows:
        groups[row.customer_id].append(row)
    return [groups[customer_id][: n + 1] for customer_id, n in keys]


async def payments_by_order(db: Database, keys: Sequence[uuid.UUID]) -> list[list[Row[Any]]]:
    return await grouped_by(db, Payment.order_id, keys, Payment.attempt)
