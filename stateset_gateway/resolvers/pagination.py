"""Keyset (cursor) pages for GraphQL connections and offset pages for REST lists.

Keyset: a page deep in a large table costs what the first page costs, because the database seeks
to `(sort_value, id)` on an index instead of counting past rows. The cursor is the sort key of a row.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.types import Money, UTCDateTime
from stateset_gateway.resolvers.loaders import Fields, columns, core, records, rows_on, some_columns, with_joins

T = TypeVar("T")
MAX_LIMIT = 100  # the largest offset page (REST `limit`)


@dataclass(frozen=True)
class Sort:
    column: InstrumentedAttribute[Any]
    descending: bool = True


@dataclass
class Page(Generic[T]):
    """One page of a connection. Its cursors are written only when a client reads them: most pages
    are asked for their nodes alone, and a cursor is a JSON text and a base64 encoding per row."""

    items: list[T]
    has_next_page: bool
    has_previous_page: bool
    cursor_of: Callable[[T], str]

    @property
    def cursors(self) -> list[str]:
        return [self.cursor_of(item) for item in self.items]

    @property
    def start_cursor(self) -> str | None:
        return self.cursor_of(self.items[0]) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursor_of(self.items[-1]) if self.items else None


def row_cursor(key: str) -> Callable[[Any], str]:
    """The cursor of a row in a page sorted by its attribute `key` (ties broken by id)."""
    get = attrgetter(key)
    return lambda row: encode_cursor(get(row), row.id)


@dataclass
class OffsetPage(Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.limit else 0


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return Decimal(value["d"])
        if "u" in value:
            return uuid.UUID(value["u"])
    return value


def _python_type(column: InstrumentedAttribute[Any]) -> type:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return datetime
    if isinstance(kind, Money):
        return Decimal
    return kind.python_type


def encode_cursor(sort_value: Any, row_id: uuid.UUID) -> str:
    raw = orjson.dumps([_encode_value(sort_value), str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = orjson.loads(raw)
        return _decode_value(value), uuid.UUID(row_id)
    except Exception:
        raise errors.ValidationFailed.field(field, "Invalid cursor") from None


def clamp_first(first: int | None, last: int | None, default: int, maximum: int) -> tuple[int, bool]:
    """(page size, backwards?) from first/last; sizes must be 1..maximum."""
    if first is not None and last is not None:
        raise errors.ValidationFailed.field("first", "Pass either first or last, not both")
    size = last if last is not None else first
    if size is None:
        return default, False
    if size < 0 or size > maximum:
        name = "last" if last is not None else "first"
        raise errors.ValidationFailed.field(name, f"Must be between 0 and {maximum}")
    return size, last is not None


@lru_cache(maxsize=64)
def whole_table(entity: Any) -> Select[Any]:
    """`select(entity)`, built once: where a list's statement starts, before its filters. A page of
    this very statement (`is`, not an equal one) is a page of the whole table, which keyset_page and
    offset_page read through statements built once, without building or inspecting one per request."""
    return select(entity)


def as_rows(stmt: Select[Any], kind: str, fields: Fields = None, *always: str) -> Select[Any]:
    """`select(Model)...` as the same query of `Model`'s columns (loaders.columns): plain rows that
    read like instances, without an ORM instance built per row. With `fields`, of those columns and
    `always` only (loaders.some_columns), and the rows of its joins (loaders.with_joins)."""
    entity = stmt.column_descriptions[0]["entity"]
    if entity is None:
        return stmt
    stmt = stmt.with_only_columns(*(columns(entity) if fields is None else some_columns(entity, fields, *always)))
    return with_joins(stmt, entity, fields, kind)


async def keyset_page(
    connection: AsyncConnection,
    stmt: Select[Any],
    sort: Sort,
    id_column: InstrumentedAttribute[Any],
    *,
    size: int,
    backwards: bool = False,
    after: str | None = None,
    before: str | None = None,
    fields: Fields = None,
) -> Page[Any]:
    """Seek past the cursor and fetch size+1 rows, the extra one telling whether a next page exists.
    With `fields`, the rows hold those columns, their id and the sort column (for their cursors)."""
    desc = sort.descending != backwards  # walking backwards flips the scan order
    cursor = before if backwards else after
    if cursor is not None:
        field = "before" if backwards else "after"
        value, row_id = decode_cursor(cursor, field)
        if not isinstance(value, _python_type(sort.column)):  # a forged cursor, or one from another sort
            raise errors.ValidationFailed.field(field, "Invalid cursor")
        # A row-value comparison, `(sort, id) < (value, row_id)`: by definition the same rows as
        # `sort < value OR (sort = value AND id < row_id)`, but the database can seek the (sort, id)
        # index to it. Written with OR, PostgreSQL scanned the index from the top and filtered, so a
        # page 50,000 rows deep read 50,000 index entries first.
        seek: tuple[Any, Any] | None = (value, row_id)
    else:
        seek = None
    entity = id_column.class_
    if stmt is whole_table(entity):  # no filter: a statement built once
        template = _unfiltered_page(entity, sort.column, id_column, desc, seek is not None, fields,
                                    connection.dialect.name)
        params = {"limit": size + 1} if seek is None else {"limit": size + 1, "seek": seek[0], "seek_id": seek[1]}
        rows = await rows_on(connection, template, params)
    else:
        if seek is not None:
            stmt = stmt.where(_past(sort.column, id_column, tuple_(*seek), desc))
        order = _ordering(sort.column, id_column, desc)
        selected = as_rows(stmt, connection.dialect.name, fields, id_column.key, sort.column.key)
        rows = records(await connection.execute(selected.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return Page(
        items=rows,
        has_next_page=more if not backwards else before is not None,
        has_previous_page=more if backwards else after is not None,
        cursor_of=row_cursor(sort.column.key),
    )


def _past(sort: Any, ident: Any, bound: Any, desc: bool) -> Any:
    """The rows after the cursor `bound` (a `(sort, id)` row value) in a page's order: the row-value
    comparison of keyset_page."""
    key = tuple_(sort, ident)
    return key < bound if desc else key > bound


def _ordering(sort: Any, ident: Any, desc: bool) -> tuple[Any, Any]:
    """A page's order: by its sort key, ties broken by id, both the same way."""
    return (sort.desc(), ident.desc()) if desc else (sort.asc(), ident.asc())


@lru_cache(maxsize=512)
def _unfiltered_page(entity: Any, sort_column: InstrumentedAttribute[Any], id_column: InstrumentedAttribute[Any],
                     desc: bool, seeking: bool, fields: Fields, kind: str) -> Select[Any]:
    """A page of a whole table as one statement per (table, sort, direction, fields), its values
    (page size, cursor) bound per request: the first pages of the read API's lists, asked for
    without a filter, run as the loaders' statements do (loaders.rows_on), not built and walked by
    SQLAlchemy on every request."""
    sort, ident = core(sort_column), core(id_column)
    stmt = select(*some_columns(entity, fields, id_column.key, sort_column.key))
    if seeking:
        stmt = stmt.where(_past(sort, ident, tuple_(bindparam("seek", type_=sort.type),
                                                    bindparam("seek_id", type_=ident.type)), desc))
    order = _ordering(sort, ident, desc)
    return with_joins(stmt, entity, fields, kind).order_by(*order).limit(bindparam("limit", type_=Integer))


async def count(connection: AsyncConnection, stmt: Select[Any]) -> int:
    return int(await connection.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


async def offset_page(
    connection: AsyncConnection, stmt: Select[Any], sort: Sort, id_column: InstrumentedAttribute[Any], *, page: int,
    limit: int, fields: Fields = None,
) -> OffsetPage[Any]:
    if page < 1:
        raise errors.ValidationFailed.field("page", "Must be at least 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.ValidationFailed.field("limit", f"Must be between 1 and {MAX_LIMIT}")
    entity = id_column.class_
    if stmt is whole_table(entity):  # no filter: statements built once
        template = _unfiltered_offset_page(entity, sort.column, id_column, sort.descending, fields,
                                           connection.dialect.name)
        rows = await rows_on(connection, template, {"offset": (page - 1) * limit, "limit": limit})
        total = int((await rows_on(connection, _table_count(entity)))[0].total)
        return OffsetPage(items=rows, total=total, page=page, limit=limit)
    order = _ordering(sort.column, id_column, sort.descending)
    selected = as_rows(stmt, connection.dialect.name, fields, id_column.key)
    rows = records(await connection.execute(selected.order_by(*order).offset((page - 1) * limit).limit(limit)))
    total = await count(connection, stmt)
    return OffsetPage(items=rows, total=total, page=page, limit=limit)


@lru_cache(maxsize=512)
def _unfiltered_offset_page(entity: Any, sort_column: InstrumentedAttribute[Any],
                            id_column: InstrumentedAttribute[Any], desc: bool, fields: Fields,
                            kind: str) -> Select[Any]:
    """A REST page of a whole table, as `_unfiltered_page` is a cursor page of one."""
    sort, ident = core(sort_column), core(id_column)
    order = _ordering(sort, ident, desc)
    return (with_joins(select(*some_columns(entity, fields, id_column.key)), entity, fields, kind).order_by(*order)
            .offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer)))


@lru_cache(maxsize=64)
def _table_count(entity: Any) -> Select[Any]:
    return select(func.count().label("total")).select_from(entity.__table__)


@dataclass(frozen=True)
class PageLimits:
    """The page sizes a transport allows (GraphQL's come from its settings): the size of a page
    when the client names none, and the largest it may ask for."""

    default_size: int
    max_size: int


@dataclass(frozen=True, kw_only=True)
class CursorArgs:
    """GraphQL connection arguments, with the page limits they are checked against."""

    limits: PageLimits
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class OffsetArgs:
    """REST list arguments: `page` from 1, `limit` 1..MAX_LIMIT."""

    page: int = 1
    limit: int = 20


async def paginate(
    connection: AsyncConnection,
    stmt: Select[Any],
    sort: Sort,
    id_column: InstrumentedAttribute[Any],
    args: CursorArgs | OffsetArgs,
    fields: Fields = None,
) -> Page[Any] | OffsetPage[Any]:
    if isinstance(args, OffsetArgs):
        return await offset_page(connection, stmt, sort, id_column, page=args.page, limit=args.limit, fields=fields)
    size, backwards = clamp_first(args.first, args.last, args.limits.default_size, args.limits.max_size)
    return await keyset_page(connection, stmt, sort, id_column, size=size, backwards=backwards, after=args.after,
                             before=args.before, fields=fields)


async def page_of(
    db: Database, stmt: Select[Any], sort: Sort, id_column: InstrumentedAttribute[Any], args: CursorArgs | OffsetArgs,
    fields: Fields = None,
) -> Page[Any] | OffsetPage[Any]:
    """One page of `stmt`, as rows (holding only `fields`, their id and sort key, when given), on the
    request's read connection."""
    async with db.read() as connection:
        return await paginate(connection, stmt, sort, id_column, args, fields)


async def count_of(db: Database, stmt: Select[Any]) -> int:
    async with db.read() as connection:
        return await count(connection, stmt)
