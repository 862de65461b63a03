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
from stateset_gateway.resolvers import loaders
from tests.support.statements import StatementLog

BY_ID = (Customer, Product, Order, InventoryLocation)
GROUPED = ((OrderItem.order_id, (OrderItem.created_at, OrderItem.id)),
           (InventoryBalance.product_id, (InventoryBalance.created_at, InventoryBalance.id)),
           (Shipment.order_id, (Shipment.created_at, Shipment.id)),
           (Return.order_id, (Return.created_at, Return.id)),
           (ReturnItem.return_id, (ReturnItem.id,)),
           (CustomerAddress.customer_id, (CustomerAddress.id,)),
           (Payment.order_id, (Payment.attempt,)))


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
    for column, order_by in GROUPED:
        keys = await _keys(db, column)
        if not keys:
            continue
        direct, expected = await _both(db, loaders._grouped_by(column, order_by, db.kind), {"keys": keys})
        assert _typed(direct) == _typed(expected), column
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
        prepared = driver_statement(loaders._where_equal(Order.order_number), connection.dialect)
        assert prepared is not None
        with pytest.raises(DBAPIError, match="invalid byte sequence|0x00") as raised:
            await prepared.fetch(connection, {"value": "ORD-\x00"})
    assert isinstance(to_domain_error(raised.value), ValidationFailed)
