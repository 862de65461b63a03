"""On PostgreSQL the read API's statements go to asyncpg directly (db/driver.py): they must answer
exactly what SQLAlchemy answers for them, value for value and type for type, or fall back to it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.driver import driver_statement
from stateset_gateway.db.engine import Database
from stateset_gateway.db.errors import to_domain_error
from stateset_gateway.errors import ValidationFailed
from stateset_gateway.db.models import (
    Customer,
    InventoryBalance,
    InventoryLocation,
    InventoryReservation,
    Order,
    OrderItem,
    Product,
    Return,
)
from stateset_gateway.resolvers import loaders
from stateset_gateway.resolvers.inventory import reserve_inventory
from tests.support.statements import StatementLog

BY_ID = (Customer, Product, Order, InventoryLocation)
GROUPED = tuple(loaders.grouping_of(load) for load in (
    loaders.items_by_order, loaders.levels_by_product, loaders.shipments_by_order, loaders.returns_by_order,
    loaders.items_by_return, loaders.addresses_by_customer, loaders.payments_by_order))


def _typed(rows: list[Any]) -> list[list[tuple[type, str]]]:
    """Each value with its type and its text: `Decimal('5')` and `Decimal('5.00')` differ here."""
    return [[(type(value), repr(value)) for value in row] for row in rows]


async def _keys(db: Database, attribute: Any) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(select(loaders.core(attribute)).distinct())).scalars())


async def _both(db: Database, statement: Any, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    async with db.engine.connect() as connection:
        prepared = driver_statement(statement, connection.dialect)
        assert prepared is not None, statement
        direct = await prepared.fetch(connection, params)
        through_sqlalchemy = loaders.records(await connection.execute(statement, params))
    return direct, through_sqlalchemy


async def test_every_loader_statement_answers_what_sqlalchemy_answers(db: Database, backend: str) -> None:
    await seed(db, SeedSize(customers=8, products=6, orders=30))
    if backend != "postgresql":
        async with db.engine.connect() as connection:
            assert driver_statement(loaders._by_id(Order, db.kind), connection.dialect) is None
        return
    compared = 0
    for model in BY_ID:
        keys = await _keys(db, model.id)
        for fields in (None, frozenset({"id"})):
            direct, expected = await _both(db, loaders._by_id(model, db.kind, fields), {"keys": keys})
            assert _typed(sorted(direct)) == _typed(sorted(expected)) and direct, model
            assert [row._fields for row in direct] == [row._fields for row in expected]
            compared += len(direct)
    for grouping in GROUPED:
        assert grouping is not None
        keys = await _keys(db, grouping.column)
        if not keys:
            continue
        direct, expected = await _both(db, loaders._grouped_by(grouping.column, grouping.order_by, db.kind),
                                       {"keys": keys})
        assert _typed(direct) == _typed(expected), grouping
        compared += len(direct)
    customers = await _keys(db, Order.customer_id)
    direct, expected = await _both(db, loaders._recent_orders(db.kind), {"keys": customers, "limit": 3})
    assert _typed(direct) == _typed(expected)
    assert compared > 100


async def test_statements_sent_to_the_driver_are_still_seen_by_engine_listeners(db: Database, backend: str) -> None:
    await seed(db, SeedSize(customers=3, products=3, orders=4))
    keys = await _keys(db, Order.id)
    log = StatementLog(db)
    async with db.request_reads():
        with log.recording() as statements:
            found = await loaders.orders(db, keys)
    assert len(found) == len(keys) and all(found)
    selects = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert len(selects) == 1 and "FROM orders" in selects[0], statements


async def test_a_failing_driver_statement_fails_as_sqlalchemy_reports_it(db: Database, backend: str) -> None:
    """PostgreSQL text cannot hold NUL: SQLAlchemy's error, which the gateway answers with a 400."""
    if backend != "postgresql":  # SQLite can: no such order
        assert await loaders.first_where(db, Order.order_number, "ORD-\x00") is None
        return
    async with db.engine.connect() as connection:
        prepared = driver_statement(loaders._where_equal(Order.order_number, db.kind), connection.dialect)
        assert prepared is not None
        with pytest.raises(DBAPIError, match="invalid byte sequence|0x00") as raised:
            await prepared.fetch(connection, {"value": "ORD-\x00"})
    assert isinstance(to_domain_error(raised.value), ValidationFailed)


async def test_a_joined_row_is_read_with_its_parent_and_is_none_where_the_join_finds_none(
    db: Database, backend: str
) -> None:
    """A join (loaders.Join) gives each parent row its related row as one attribute, or None when the
    key is null; on PostgreSQL the driver's rows are SQLAlchemy's, joined row included."""
    await seed(db, SeedSize(customers=3, products=3, orders=6))
    async with db.engine.connect() as connection:
        level = (await connection.execute(select(InventoryBalance.product_id, InventoryBalance.location_id)
                                          .where(InventoryBalance.on_hand - InventoryBalance.reserved >= 1))).first()
    assert level is not None
    held = await reserve_inventory(db, {"product_id": level.product_id, "location_id": level.location_id,
                                        "quantity": 1, "reference": "marketplace"})
    fields = frozenset({"id", "order_id", loaders.Join("order_id", Order, frozenset({"order_number"}))})
    statement = loaders.with_joins(select(*loaders.some_columns(InventoryReservation, fields, "id")),
                                   InventoryReservation, fields, db.kind)
    async with db.engine.connect() as connection:
        rows = await loaders.rows_on(connection, statement)
    by_id = {row.id: row for row in rows}
    assert by_id[held.id].order_id is None and by_id[held.id].joined_order_id is None
    with_order = [row for row in rows if row.order_id is not None]
    assert with_order, "the seed reserves stock for its open orders"
    for row in with_order:
        assert row.joined_order_id.id == row.order_id and row.joined_order_id.order_number.startswith("ORD-")
        assert row.joined_order_id._fields == ("id", "order_number")
    if backend == "postgresql":
        direct, expected = await _both(db, statement, {})
        assert [(_typed([r[:-1]]), r[-1] and _typed([r[-1]])) for r in sorted(direct, key=lambda r: r.id)] == [
            (_typed([r[:-1]]), r[-1] and _typed([r[-1]])) for r in sorted(expected, key=lambda r: r.id)]


async def test_nested_rows_are_the_rows_their_loaders_answer(db: Database, backend: str) -> None:
    """A to-many join gives each parent row, on PostgreSQL, the list its grouped loader answers for
    it (empty included), record for record, fields, values and types, with the rows' own joins read
    inside them (an item's product, that product's stock levels), as their loaders answer those; the
    driver's rows are SQLAlchemy's. On SQLite the statement leaves the join out: its reader loads it."""
    await seed(db, SeedSize(customers=6, products=5, orders=20))
    levels = loaders.Join("id", InventoryBalance, frozenset({"on_hand", "reserved"}),
                          loaders.grouping_of(loaders.levels_by_product))
    product = loaders.Join("product_id", Product, frozenset({"sku", "price", levels}))
    items = loaders.Join("id", OrderItem, frozenset({"sku", "unit_price", "created_at", "product_id", product}),
                         loaders.grouping_of(loaders.items_by_order))
    returns = loaders.Join("id", Return, frozenset({"status"}), loaders.grouping_of(loaders.returns_by_order))
    statement = loaders._by_id(Order, db.kind, frozenset({"order_number", "total", items, returns}))
    keys = await _keys(db, Order.id)
    async with db.engine.connect() as connection:
        found = await loaders.rows_on(connection, statement, {"keys": keys})
    assert len(found) == len(keys)
    if backend != "postgresql":
        assert not any(hasattr(order, items.attribute) or hasattr(order, returns.attribute) for order in found)
        return
    empty = 0
    for order in found:
        assert _typed(getattr(order, returns.attribute)) == _typed(
            (await loaders.returns_by_order(db, [order.id], returns.fields))[0])
        empty += not getattr(order, returns.attribute)
        expected_items = (await loaders.items_by_order(db, [order.id], items.fields))[0]
        nested_items = getattr(order, items.attribute)
        assert nested_items, "every seeded order has items"
        unjoined = {product.attribute: None}
        assert _typed([item._replace(**unjoined) for item in nested_items]) == _typed(
            [item._replace(**unjoined) for item in expected_items])
        for item in nested_items:
            nested_product = getattr(item, product.attribute)
            assert getattr(nested_product, levels.attribute), "every seeded product is stocked"
            assert _typed([nested_product]) == _typed(await loaders.products(db, [item.product_id], product.fields))
    assert empty, "most seeded orders have no return"
    direct, expected = await _both(db, statement, {"keys": keys})
    assert _typed(sorted(direct, key=lambda r: r.id)) == _typed(sorted(expected, key=lambda r: r.id))
