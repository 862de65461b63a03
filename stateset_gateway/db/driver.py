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
    build: RecordBuilder

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
            return self.build(result.all())
        return self.build(found)


@lru_cache(maxsize=1024)
def driver_statement(statement: Any, dialect: Dialect) -> DriverStatement | None:
    """`statement` compiled for asyncpg, or None when it must go through SQLAlchemy. Keyed by the
    statement object: the loaders build each of theirs once (resolvers/loaders.py)."""
    if dialect.name != "postgresql" or dialect.driver != "asyncpg" or not isinstance(statement, Select):
        return None
    names = []
    for column in statement.selected_columns:
        if column.key is None or not isinstance(column.type, IDENTICAL):
            return None
        names.append(column.key)
    build = record_builder(tuple(names))
    if build is None:
        return None
    compiled = statement.compile(dialect=dialect)
    positions = compiled.positiontup
    if positions is None or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    defaults = {name: bind.value for name, bind in compiled.binds.items()}
    return DriverStatement(statement, str(compiled), tuple(positions), dict(compiled._bind_processors), defaults,
                           build)


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


@lru_cache(maxsize=512)
def record_builder(names: tuple[str, ...]) -> RecordBuilder | None:
    """What makes a statement's rows, with these column labels, into records (named tuples), or
    None when they cannot be (a label that is not an identifier, a joined row's columns apart). Columns of a joined row (labelled `<attribute>__<name>`,
    after the row's own) become a record of their own, held by the row as `<attribute>`, or None
    when the outer join found no row (its id is null)."""
    width = next((i for i, name in enumerate(names) if JOINED_SEPARATOR in name), len(names))
    groups: dict[str, list[str]] = {}
    for name in names[width:]:
        attribute, separator, column = name.partition(JOINED_SEPARATOR)
        if not separator or (attribute in groups and attribute != next(reversed(groups))):
            return None  # each joined row's columns follow the row's own, together
        groups.setdefault(attribute, []).append(column)
    record = record_type((*names[:width], *groups))
    if record is None:
        return None
    make = tuple.__new__
    if not groups:
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
            for begin, end, ident, related in joined:
                values.append(None if row[ident] is None else make(related, row[begin:end]))
            out.append(make(record, values))
        return out

    return build
