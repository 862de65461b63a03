"""Batch loads: one `IN (...)` query per batch of keys, results in key order, one entry per key.

GraphQL wraps these in per-request DataLoaders (schema/context.py); REST calls them directly for
includes (`?include_items=true`). A nested query therefore costs one statement per level.

They return plain rows, not ORM instances: a nested page loads hundreds of rows, and building an ORM
instance per row (identity map, instance state, SQLModel's pydantic set-up) cost more CPU than the
query. A row has the model's attribute names and values (the same column types convert them), which
is all a reader needs; nothing here is modified or flushed.

Each statement is plain Core, built once per database kind (the batch's keys are one parameter,
`keys_in`), so SQLAlchemy compiles it once and finds it in its cache by the same object on every
request; it runs on the request's read connection (`Database.read`), never through an ORM session.
The gets of the read API (`one`, `first_where`) are the same statements with one key.

The loaders marked `projecting` also take `fields`, the attributes their caller will read: only
those columns are selected (with the id and the key rows are grouped by). A query asks for a few
fields of each row, and reading a column costs, per row, its decoding in the driver and its
conversion on the way out (a timestamp about a microsecond): most of a wide row is never read.

`fields` may also name `Join`s: to-one relations read in the same statement, outer-joined, each
row then holding its related row as one more attribute (`Join.attribute`). A statement costs a
round trip and the machinery around it, more than reading the related columns alongside: an
inventory page with its products and locations is one statement instead of three. The loaders
marked `joinable` (a row by its id) are the relations that can be read so.

On PostgreSQL a `Join` may also be to-many: the rows of a `grouped` loader (an order's items, a
product's stock levels), read as one more column of the parent's row, an array of row values
(`ARRAY(SELECT ROW(...) ... ORDER BY ...)`), which asyncpg decodes in C. The related rows' own
joins are read inside them the same way (a correlated row or array per relation), so an order with
its items, their products and those products' stock levels is one statement. SQLite has no arrays:
there a to-many join is left out, and its reader loads it as usual.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Result,
    Select,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from stateset_gateway import errors
from stateset_gateway.db.driver import NestedRows, driver_statement, many_of, one_or_none, record_builder, record_maker
from stateset_gateway.db.engine import Database
from stateset_gateway.db.types import Money, UTCDateTime
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
from stateset_gateway.resolvers.common import parse_id

T = TypeVar("T", bound=SQLModel)


@dataclass(frozen=True)
class Grouping:
    """What a `grouped` loader answers for a key: the rows whose `column` equals it, in `order_by` order."""

    column: InstrumentedAttribute[Any]
    order_by: tuple[InstrumentedAttribute[Any], ...]


@dataclass(frozen=True)
class Join:
    """Rows of `model` related to a parent row, read with the parent and held by its record as
    `attribute`, each holding `fields` and its id (None: every column). To-one (`many` None): the
    row whose id is the parent's `key` (an outer join), or None. To-many: the rows `many` groups
    under the parent's `key`, a list (PostgreSQL only; see the module's docstring). The joins in
    `fields` are read inside the related rows, on PostgreSQL: a to-one join's own joins only when
    it is itself inside a to-many one (else its reader loads them)."""

    key: str
    model: type[SQLModel]
    fields: Fields
    many: Grouping | None = None

    @property
    def attribute(self) -> str:
        if self.many is None:
            return JOINED_PREFIX + self.key
        return f"{JOINED_PREFIX}{self.model.__tablename__}_by_{self.many.column.key}"  # type: ignore[attr-defined]


JOINED_PREFIX = "joined_"
"""Of a record's attribute holding a joined row; its columns are labelled `joined_<key>__<name>`
in the statement (db/driver.py `record_builder` makes the row of them)."""

Fields = frozenset[str | Join] | None
"""The attributes of a row its reader needs, and the to-one relations to read with it; None: every
column, no relation."""


def names_of(fields: Fields) -> frozenset[str] | None:
    """The attributes `fields` names (without its joins)."""
    if fields is None:
        return None
    return frozenset(name for name in fields if type(name) is str)


def joins_of(fields: Fields) -> tuple[Join, ...]:
    """The joins `fields` names, in a stable order (their statement is built once per `fields`):
    the to-many ones first, whose column is one of the row's own (db/driver.py `record_builder`)."""
    if not fields:
        return ()
    return tuple(sorted((join for join in fields if type(join) is Join),
                        key=lambda join: (join.many is None, join.attribute)))

Record = Any
"""A row of the read API: a named tuple with the model's attribute names (`records`,
db/driver.py), holding the columns it was read for."""


@cache
def _column_names(model: type[SQLModel]) -> dict[str, str]:
    """Attribute name -> column name, in table order."""
    return {prop.key: prop.columns[0].name for prop in sa_inspect(model).column_attrs}


@cache
def _labelled(model: type[SQLModel]) -> dict[str, Any]:
    table = model.__table__  # type: ignore[attr-defined]
    return {key: table.c[name].label(key) for key, name in _column_names(model).items()}


@cache
def columns(model: type[SQLModel]) -> tuple[Any, ...]:
    """Every column of `model`'s table, labelled with its attribute name: `select(*columns(Order))`
    yields rows that read like `Order` instances (`row.id`, `row.order_number`, ...). Table columns,
    not the ORM's attributes, so the statement is plain Core and its rows skip the ORM's loading."""
    return tuple(_labelled(model).values())


def _attributes_read(model: type[SQLModel], fields: Fields, always: tuple[str, ...]) -> list[str]:
    """The attributes named by `fields` and `always`, in table order; every column when `fields` is
    None or names an attribute that is not a column (a reader that needs more than columns)."""
    names = _column_names(model)
    wanted = names_of(fields)
    if wanted is None or not wanted <= names.keys():
        return list(names)
    wanted = wanted.union(always)
    return [name for name in names if name in wanted]


def some_columns(model: type[SQLModel], fields: Fields, *always: str) -> tuple[Any, ...]:
    """The columns of `_attributes_read`, labelled (`columns`). Its joins are `with_joins`'s."""
    labelled = _labelled(model)
    return tuple(labelled[name] for name in _attributes_read(model, fields, always))


def with_joins(stmt: Select[Any], model: type[SQLModel], fields: Fields, kind: str) -> Select[Any]:
    """`stmt` (rows of `model`) with the related rows of `fields`' joins: a to-one join's outer-joined,
    its columns selected after the parent's, labelled for db/driver.py's `record_builder`; a to-many
    join's as one column of row values, on PostgreSQL (`_nested_rows`). A join that cannot be read
    so (its key not a column of `model`, a to-many one on SQLite or of a column an array cannot hold)
    is left out: the reader then finds no `attribute` on the rows, and loads the relation as usual."""
    table = model.__table__  # type: ignore[attr-defined]
    names = _column_names(model)
    for join in joins_of(fields):
        if join.key not in names:
            continue
        if join.many is not None:
            nested = _nested_rows(join, table.c[names[join.key]], 0) if kind == "postgresql" else None
            if nested is not None:
                stmt = stmt.add_columns(nested.label(join.attribute))
            continue
        related = join.model.__table__.alias(join.attribute)  # type: ignore[attr-defined]
        related_names = _column_names(join.model)
        stmt = stmt.outerjoin(related, related.c.id == table.c[names[join.key]]).add_columns(
            *(related.c[related_names[name]].label(f"{join.attribute}__{name}")
              for name in _attributes_read(join.model, join.fields, ("id",))))
    return stmt


NESTABLE: tuple[type, ...] = (Integer, Boolean, Uuid, AutoString, Money, UTCDateTime)
"""Column types a row value holds as a loader's row would (tests/db/test_driver_statements.py).
asyncpg decodes a row value's fields in binary only, and the connection reads `numeric` (and JSON)
in text (db/codecs.py): an amount is therefore sent as its text and made a Decimal here, as the
codec makes one; JSON is not nested."""


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _nested_rows(join: Join, parent_key: ColumnElement[Any], depth: int) -> ColumnElement[Any] | None:
    """The related rows of `join` as one value correlated with the parent's `parent_key` column: for
    a to-many join an array of row values in its grouping's order, for a to-one join a row value or
    NULL; typed `NestedRows`, which makes them records. None when a column cannot be held so."""
    alias = join.model.__table__.alias(f"n{depth}_{join.attribute}")  # type: ignore[attr-defined]
    always = ("id",) if join.many is None else ("id", join.many.column.key)
    made = _row_value(join.model, alias, join.fields, always, depth)
    if made is None:
        return None
    row, convert = made
    if join.many is None:
        found = select(row).where(alias.c.id == parent_key).scalar_subquery()
        return type_coerce(found, NestedRows(one_or_none(convert)))
    related = _column_names(join.model)
    found = (select(row).where(alias.c[related[join.many.column.key]] == parent_key)
             .order_by(*(alias.c[related[column.key]] for column in join.many.order_by)))
    return type_coerce(func.array(found.scalar_subquery()), NestedRows(many_of(convert)))


def _row_value(model: type[SQLModel], alias: Any, fields: Fields, always: tuple[str, ...], depth: int
               ) -> tuple[ColumnElement[Any], Callable[[Any], Any]] | None:
    """`ROW(...)` of the columns of `alias` (a `model` table) that `fields` and `always` name
    (`_attributes_read`), then of its joins' rows; with
    what makes one such value a record (db/driver.py `record_maker`)."""
    names = _column_names(model)
    picked = _attributes_read(model, fields, always)
    if not all(isinstance(alias.c[names[name]].type, NESTABLE) for name in picked):
        return None
    parts: list[Any] = []
    inner: list[tuple[int, Callable[[Any], Any]]] = []
    for name in picked:
        column = alias.c[names[name]]
        if isinstance(column.type, Money):
            inner.append((len(parts), _amount))
            column = cast(column, Text)
        parts.append(column)
    for join in joins_of(fields):
        nested = _nested_rows(join, alias.c[names[join.key]], depth + 1) if join.key in names else None
        if nested is None:
            continue  # its reader loads it
        inner.append((len(parts), nested.type.convert))  # type: ignore[attr-defined]
        parts.append(nested)
        picked.append(join.attribute)
    convert = record_maker(tuple(picked), tuple(inner))
    if convert is None:
        return None
    return func.row(*parts), convert


Load = Callable[..., Any]


def projecting(load: Load) -> Load:
    """Marks a batch function that takes `fields` (see the module's docstring)."""
    load.projects = True  # type: ignore[attr-defined]
    return load


def projects(load: Load) -> bool:
    return getattr(load, "projects", False)


def joinable(model: type[SQLModel]) -> Callable[[Load], Load]:
    """Marks a batch function answering each key's row of `model` by its id (or None): a relation it
    loads may be read in its parent's statement instead (`Join`)."""
    def mark(load: Load) -> Load:
        load.joins = model  # type: ignore[attr-defined]
        return load

    return mark


def joined_model(load: Load) -> type[SQLModel] | None:
    return getattr(load, "joins", None)


def grouped(column: InstrumentedAttribute[Any], *order_by: InstrumentedAttribute[Any]
            ) -> Callable[[Callable[[], None]], Load]:
    """Makes the stub it decorates (its name and docstring) a projecting batch function answering,
    for each key, the rows of `column`'s table whose `column` equals it, in `order_by` order. A
    relation it loads may be read in its parent's statement on PostgreSQL (a to-many `Join`)."""
    def make(stub: Callable[[], None]) -> Load:
        @projecting
        async def load(db: Database, keys: Sequence[Any], fields: Fields = None) -> list[list[Record]]:
            return await grouped_by(db, column, keys, *order_by, fields=fields)

        load.__name__, load.__qualname__, load.__doc__ = stub.__name__, stub.__qualname__, stub.__doc__
        load.groups = Grouping(column, order_by)  # type: ignore[attr-defined]
        return load

    return make


def grouping_of(load: Load) -> Grouping | None:
    return getattr(load, "groups", None)


def core(attribute: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    """The table column behind an ORM attribute."""
    return attribute.class_.__table__.c[attribute.property.columns[0].name]  # type: ignore[no-any-return]


def keys_in(column: ColumnElement[Any], kind: str) -> ColumnElement[bool]:
    """`column` is one of the batch's keys, run with `{"keys": [...]}`. On PostgreSQL one array
    parameter (`= ANY($1)`): the SQL is the same for any number of keys, so asyncpg prepares it once
    per connection; SQLite has no arrays, and gets an expanding `IN (...)`."""
    if kind == "postgresql":
        return column == any_(bindparam("keys", type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam("keys", expanding=True))


# Bounded: a statement per set of fields that documents select, which clients choose.
@lru_cache(maxsize=512)
def _by_id(model: type[SQLModel], kind: str, fields: Fields = None) -> Select[Any]:
    stmt = select(*some_columns(model, fields, "id")).where(keys_in(core(model.id), kind))  # type: ignore[attr-defined]
    return with_joins(stmt, model, fields, kind)


@lru_cache(maxsize=512)
def _grouped_by(column: InstrumentedAttribute[Any], order_by: tuple[InstrumentedAttribute[Any], ...],
                kind: str, fields: Fields = None) -> Select[Any]:
    stmt = (select(*some_columns(column.class_, fields, "id", column.key))
            .where(keys_in(core(column), kind)).order_by(*map(core, order_by)))
    return with_joins(stmt, column.class_, fields, kind)


def records(result: Result[Any]) -> list[Any]:
    """A result's rows as named tuples: they read like the model (`record.order_number`), as
    SQLAlchemy's rows do, but an attribute is read in a tenth of the time (an SQLAlchemy row finds
    it only after a failed ordinary lookup), and a page's build reads thousands of them. A joined
    row's columns become a record of their own (`Join`)."""
    build = record_builder(tuple(result.keys()))
    if build is None:
        return list(result.all())
    return build(result.all())


async def rows(db: Database, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The rows of a Core statement (`records`), on the request's read connection (engine.py)."""
    async with db.read() as connection:
        return await rows_on(connection, stmt, params)


async def rows_on(connection: AsyncConnection, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The rows of a Core statement built once (they are cached by the statement object), on
    `connection`: on PostgreSQL straight through asyncpg (db/driver.py) unless the engine echoes."""
    if not connection.engine.echo:
        prepared = driver_statement(stmt, connection.dialect)
        if prepared is not None:
            return await prepared.fetch(connection, params or {})
    return records(await connection.execute(stmt, params))


async def by_id(db: Database, model: type[T], keys: Sequence[uuid.UUID], fields: Fields = None
                ) -> list[Record | None]:
    found = {row.id: row for row in await rows(db, _by_id(model, db.kind, fields), {"keys": list(set(keys))})}
    return [found.get(key) for key in keys]


async def grouped_by(
    db: Database, column: InstrumentedAttribute[Any], keys: Sequence[Any], *order_by: InstrumentedAttribute[Any],
    fields: Fields = None,
) -> list[list[Any]]:
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    key_of = attrgetter(column.key)
    for row in await rows(db, _grouped_by(column, order_by, db.kind, fields), {"keys": list(set(keys))}):
        groups[key_of(row)].append(row)
    return [groups[key] for key in keys]


async def one(db: Database, model: type[SQLModel], key: Any, kind: str, fields: Fields = None) -> Record:
    """The row of `model` with id `key` (holding `fields` and its id, when given), else NOT_FOUND for
    `kind`: a get of the read API."""
    ident = parse_id(key)
    found = (await by_id(db, model, [ident], fields))[0]
    if found is None:
        raise errors.NotFound.resource(kind, ident)
    return found


@lru_cache(maxsize=512)
def _where_equal(attribute: InstrumentedAttribute[Any], kind: str, fields: Fields = None) -> Select[Any]:
    stmt = select(*some_columns(attribute.class_, fields, "id")).where(core(attribute) == bindparam("value"))
    return with_joins(stmt, attribute.class_, fields, kind)


@cache
def ordered_by(attribute: InstrumentedAttribute[Any]) -> Select[Any]:
    """Every row of `attribute`'s table, in its order (a short table: locations)."""
    return select(*columns(attribute.class_)).order_by(core(attribute))


async def first_where(db: Database, attribute: InstrumentedAttribute[Any], value: Any, fields: Fields = None
                      ) -> Record | None:
    """The row whose `attribute` (a unique column) is `value`, if any (holding `fields` and its id,
    when given)."""
    found = await rows(db, _where_equal(attribute, db.kind, fields), {"value": value})
    return found[0] if found else None


@joinable(Customer)
@projecting
async def customers(db: Database, keys: Sequence[uuid.UUID], fields: Fields = None) -> list[Record | None]:
    return await by_id(db, Customer, keys, fields)


@joinable(Product)
@projecting
async def products(db: Database, keys: Sequence[uuid.UUID], fields: Fields = None) -> list[Record | None]:
    return await by_id(db, Product, keys, fields)


@joinable(Order)
@projecting
async def orders(db: Database, keys: Sequence[uuid.UUID], fields: Fields = None) -> list[Record | None]:
    return await by_id(db, Order, keys, fields)


@joinable(InventoryLocation)
@projecting
async def locations(db: Database, keys: Sequence[uuid.UUID], fields: Fields = None) -> list[Record | None]:
    return await by_id(db, InventoryLocation, keys, fields)


@grouped(OrderItem.order_id, OrderItem.created_at, OrderItem.id)
def items_by_order() -> None:
    """An order's items, oldest first."""


@grouped(InventoryBalance.product_id, InventoryBalance.created_at, InventoryBalance.id)
def levels_by_product() -> None:
    """A product's stock levels, oldest first."""


@grouped(Shipment.order_id, Shipment.created_at, Shipment.id)
def shipments_by_order() -> None:
    """An order's shipments, oldest first."""


@grouped(Return.order_id, Return.created_at, Return.id)
def returns_by_order() -> None:
    """An order's returns, oldest first."""


@grouped(ReturnItem.return_id, ReturnItem.id)
def items_by_return() -> None:
    """A return's items."""


@grouped(CustomerAddress.customer_id, CustomerAddress.id)
def addresses_by_customer() -> None:
    """A customer's addresses."""


@cache
def _order_counts(kind: str) -> Select[Any]:
    customer_id = core(Order.customer_id)
    return select(customer_id, func.count()).where(keys_in(customer_id, kind)).group_by(customer_id)


async def order_counts_by_customer(db: Database, keys: Sequence[uuid.UUID]) -> list[int]:
    counts = dict(await rows(db, _order_counts(db.kind), {"keys": list(set(keys))}))  # type: ignore[arg-type]
    return [int(counts.get(key, 0)) for key in keys]


@lru_cache(maxsize=512)
def _recent_orders(kind: str, fields: Fields = None) -> Select[Any]:
    order_id, customer_id, created_at = core(Order.id), core(Order.customer_id), core(Order.created_at)
    rank = func.row_number().over(partition_by=customer_id, order_by=(created_at.desc(), order_id.desc())).label("rank")
    ranked = select(order_id, rank).where(keys_in(customer_id, kind)).subquery()
    # A page's rows hold their cursor's sort key and id, and the customer they are grouped by.
    wanted = some_columns(Order, fields, "id", "created_at", "customer_id")
    stmt = (select(*wanted).join(ranked, ranked.c.id == order_id)
            .where(ranked.c.rank <= bindparam("limit")).order_by(created_at.desc(), order_id.desc()))
    return with_joins(stmt, Order, fields, kind)


@projecting
async def recent_orders_by_customer(db: Database, keys: Sequence[tuple[uuid.UUID, int]], fields: Fields = None
                                    ) -> list[list[Record]]:
    """The newest `n` orders of each customer in one query (a window per customer)."""
    limit = max(n for _, n in keys) if keys else 0
    ids = {customer_id for customer_id, _ in keys}
    groups: dict[uuid.UUID, list[Any]] = {key: [] for key in ids}
    for row in await rows(db, _recent_orders(db.kind, fields), {"keys": list(ids), "limit": limit + 1}):
        groups[row.customer_id].append(row)
    return [groups[customer_id][: n + 1] for customer_id, n in keys]


@grouped(Payment.order_id, Payment.attempt)
def payments_by_order() -> None:
    """An order's payments, by attempt."""
