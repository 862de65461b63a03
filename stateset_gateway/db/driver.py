"""The read API's statements sent to asyncpg directly, on PostgreSQL.

A batch load or a get is a statement SQLAlchemy has already compiled and cached, but running it
through SQLAlchemy still costs about 110 us a statement before and after the driver's own work (its
cache key walks the statement on every execution; its result builds a row per row and converts
values), which is more than the driver takes for the small batches of a nested query. So the
statement is compiled once, here, and sent to asyncpg as the same SQL text, on the same pooled
connection, where asyncpg prepares it once per connection.

Only statements whose every column SQLAlchemy would hand over unchanged (or, for amounts and
timestamps, as asyncpg already gives them: NUMERIC(12, 2) with its two places, timestamptz in UTC)
take this path (`IDENTICAL`); anything else, or `[database] echo`, keeps SQLAlchemy's. Listeners of
the engine's `before_cursor_execute` (statement counters, tests) still see every statement. A
statement that fails here is run again through SQLAlchemy, so a client sees the same error (and a
broken connection is invalidated) as on the ordinary path; it is a read, so running it twice changes
nothing.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, Select, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import NullType, TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

from stateset_gateway.db.types import Money, UTCDateTime

IDENTICAL: tuple[type, ...] = (Integer, Boolean, Uuid, AutoString, JSON, Money, UTCDateTime)
"""Column types whose asyncpg values are what SQLAlchemy's result would give (tested against it)."""


@dataclass(frozen=True)
class DriverStatement:
    statement: Select[Any]
    sql: str
    parameters: tuple[str, ...]  # bind parameter names, in $n order
    processors: dict[str, Any]  # bind processors by parameter name
    defaults: dict[str, Any]  # the statement's own values of its parameters
    build: RecordBuilder  # of the driver's rows
    plain: RecordBuilder  # of SQLAlchemy's rows, whose nested rows its types have converted

    async def fetch(self, connection: AsyncConnection, params: dict[str, Any]) -> list[Any]:
        """The statement's rows as named tuples (like loaders.records)."""
        values = []
        for name in self.parameters:
            value = params[name] if name in params else self.defaults[name]
            process = self.processors.get(name)
            values.append(process(value) if process is not None else value)
        sync = connection.sync_connection
        assert sync is not None
        dispatch = sync.dispatch
        if dispatch.before_cursor_execute:
            for listener in dispatch.before_cursor_execute:
                listener(sync, None, self.sql, tuple(values), None, False)
        # A live connection's pooled DBAPI connection is an attribute; `get_raw_connection` would cross
        # into a new greenlet to read it (about 6,600 instructions a statement, measured by bench.instructions).
        # One closed or invalidated goes that way, which reconnects or raises as SQLAlchemy does.
        raw = (await connection.get_raw_connection() if sync.closed or sync.invalidated else sync.connection)
        driver = raw.driver_connection
        try:
            found = await driver.fetch(self.sql, *values)
        except Exception:  # noqa: BLE001 - answered as SQLAlchemy answers it (see the module's docstring)
            result = await connection.execute(self.statement, params)
            return self.plain(result.all())
        return self.build(found)


@lru_cache(maxsize=1024)
def driver_statement(statement: Any, dialect: Dialect) -> DriverStatement | None:
    """`statement` compiled for asyncpg, or None when it must go through SQLAlchemy. Keyed by the
    statement object: the loaders build each of theirs once (resolvers/loaders.py)."""
    if dialect.name != "postgresql" or dialect.driver != "asyncpg" or not isinstance(statement, Select):
        return None
    names, converters = [], []
    for index, column in enumerate(statement.selected_columns):
        if column.key is None:
            return None
        if isinstance(column.type, NestedRows):  # converted here, as the type converts SQLAlchemy's values
            converters.append((index, column.type.convert))
        elif not isinstance(column.type, IDENTICAL):
            return None
        names.append(column.key)
    build, plain = record_builder(tuple(names), tuple(converters)), record_builder(tuple(names))
    if build is None or plain is None:
        return None
    compiled = statement.compile(dialect=dialect)
    positions = compiled.positiontup
    if positions is None or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    defaults = {name: bind.value for name, bind in compiled.binds.items()}
    return DriverStatement(statement, str(compiled), tuple(positions), dict(compiled._bind_processors), defaults,
                           build, plain)


@lru_cache(maxsize=512)
def record_type(names: tuple[str, ...]) -> type[tuple[Any, ...]] | None:
    """The named tuple of rows with these columns, or None when one is not an identifier."""
    try:
        return namedtuple("Record", names)  # type: ignore[misc]  # noqa: PYI024
    except ValueError:
        return None


RecordBuilder = Callable[[Iterable[Sequence[Any]]], list[Any]]

JOINED_SEPARATOR = "__"
"""In a column's label, between the attribute holding a joined row and the column's own name
(`joined_customer_id__email`: resolvers/loaders.py `Join`); no model attribute contains it."""


Convert = Callable[[Any], Any]


class NestedRows(TypeDecorator[Any]):
    """A column of related rows read as row values (resolvers/loaders.py `_nested_rows`): an array of
    them, or one (or NULL). asyncpg decodes them into tuples, lists of tuples inside; `convert` makes
    them the records a loader would have answered. Through SQLAlchemy the type converts its values;
    through the driver (`driver_statement`), the record builder does."""

    impl = NullType
    cache_ok = True

    def __init__(self, convert: Convert) -> None:
        super().__init__()
        self.convert = convert

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return self.convert(value)


def record_maker(names: tuple[str, ...], inner: tuple[tuple[int, Convert], ...] = ()) -> Convert | None:
    """What makes one row value (a tuple of these fields, in order) a record, each `inner` field
    converted by its own function first (the related rows inside it), or None when a name is not an
    identifier."""
    record = record_type(names)
    if record is None:
        return None
    make = tuple.__new__
    if not inner:
        return lambda values: make(record, values)

    def build(values: Sequence[Any]) -> Any:
        converted = list(values)
        for index, convert in inner:
            converted[index] = convert(converted[index])
        return make(record, converted)

    return build


def many_of(make: Convert) -> Convert:
    """An array of row values (empty when there is none) as a list of records."""
    return lambda values: [make(value) for value in values] if values else []


def one_or_none(make: Convert) -> Convert:
    return lambda value: None if value is None else make(value)


@lru_cache(maxsize=512)
def record_builder(names: tuple[str, ...], converters: tuple[tuple[int, Convert], ...] = ()) -> RecordBuilder | None:
    """What makes a statement's rows, with these column labels, into records (named tuples), or
    None when they cannot be (a label that is not an identifier, a joined row's columns apart).
    Columns of a joined row (labelled `<attribute>__<name>`, after the row's own) become a record of
    their own, held by the row as `<attribute>`, or None when the outer join found no row (its id is
    null). Each of `converters` (a column's index, a function) converts that column's values first:
    related rows read as row values (`NestedRows`), among the row's own columns."""
    width = next((i for i, name in enumerate(names) if JOINED_SEPARATOR in name), len(names))
    groups: dict[str, list[str]] = {}
    for name in names[width:]:
        attribute, separator, column = name.partition(JOINED_SEPARATOR)
        if not separator or (attribute in groups and attribute != next(reversed(groups))):
            return None  # each joined row's columns follow the row's own, together
        groups.setdefault(attribute, []).append(column)
    record = record_type((*names[:width], *groups))
    if record is None or any(index >= width for index, _ in converters):
        return None
    make = tuple.__new__
    if not groups and not converters:
        return lambda rows: [make(record, row) for row in rows]
    joined = []
    start = width
    for columns in groups.values():
        related = record_type(tuple(columns))
        if related is None or "id" not in columns:
            return None
        joined.append((start, start + len(columns), start + columns.index("id"), related))
        start += len(columns)

    def build(rows: Iterable[Sequence[Any]]) -> list[Any]:
        out = []
        for row in rows:
            values = list(row[:width])
            for index, convert in converters:
                values[index] = convert(values[index])
            for begin, end, ident, related in joined:
                values.append(None if row[ident] is None else make(related, row[begin:end]))
            out.append(make(record, values))
        return out

    return build
