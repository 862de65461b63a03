"""How asyncpg turns amounts and timestamps into Python values on the gateway's connections.

asyncpg's own decoders for `numeric` and `timestamptz` are the dearest of all it has: a numeric's
binary digits are rebuilt into a Decimal in about 3,700 instructions, and a timestamp is an epoch
plus a `timedelta(0, seconds, microseconds)` whose keyword-capable constructor parses its arguments
(about 6,400). A page of orders reads hundreds of each, a third of its whole cost. So on every new
connection (engine.py) these two types get codecs of the same values made more cheaply:

- `numeric` in PostgreSQL's text format, read by `Decimal(text)`: PostgreSQL writes a numeric with
  exactly the digits and scale its binary form carries (`149.99`, `0.00`, `NaN`, `Infinity`), so the
  Decimal is the one asyncpg would build. Values sent are written by `str`, which PostgreSQL reads
  back as the same number (`1E+1` included).
- `timestamptz` as its microseconds since 2000-01-01 UTC (asyncpg's "tuple" format), read as that
  epoch plus that many microseconds (an integer product of a timedelta: no argument parsing), and
  written exactly as asyncpg writes one: a naive value or a date is local time, PostgreSQL's
  infinities are asyncpg's `datetime.max` and `datetime.min`.

Every value therefore has the type, value and zone it had (tests/db/test_codecs.py compares both on
generated values, against a connection with asyncpg's own codecs), with one difference in writing: a
numeric without a scale and with zeros before its point comes back written out (`Decimal('2490000')`)
where asyncpg gives it an exponent (`Decimal('2.49E+6')`), the same number; the gateway's amounts
are NUMERIC(12, 2), which come back digit for digit. SQLAlchemy's statements and the driver path
(driver.py) read through the same connection, so both see the same values.

One limit of a text-format codec: asyncpg decodes the fields of an anonymous record (`SELECT ROW(...)`,
SQLAlchemy's `select(tuple_(...))`) and binary COPY in binary only, so a numeric inside one fails to
decode. The related rows read as row values (resolvers/loaders.py `_nested_rows`) therefore hold an
amount as its text, made a Decimal by the same `Decimal(text)`; the gateway uses no binary COPY.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
PG_INFINITY, PG_NEGATIVE_INFINITY = 2**63 - 1, -(2**63)
# What asyncpg reads PostgreSQL's 'infinity' and '-infinity' timestamps as (naive, as asyncpg has them)
INFINITY, NEGATIVE_INFINITY = datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(1, 1, 1)
_INFINITY_MICROSECONDS = (INFINITY.replace(tzinfo=UTC) - PG_EPOCH) // MICROSECOND
_NEGATIVE_INFINITY_MICROSECONDS = (NEGATIVE_INFINITY.replace(tzinfo=UTC) - PG_EPOCH) // MICROSECOND


def timestamptz_decode(value: tuple[int]) -> datetime:
    microseconds = value[0]
    if microseconds == PG_INFINITY:
        return INFINITY
    if microseconds == PG_NEGATIVE_INFINITY:
        return NEGATIVE_INFINITY
    return PG_EPOCH + MICROSECOND * microseconds


def timestamptz_encode(value: Any) -> tuple[int]:
    if not isinstance(value, datetime):
        if not isinstance(value, date):
            raise TypeError(f"expected a datetime.date or datetime.datetime instance, got {type(value).__name__!r}")
        # midnight at the zone's offset now, as asyncpg has it (not the offset on that date)
        value = datetime(value.year, value.month, value.day, tzinfo=_local_offset())
    if value == INFINITY:
        return (PG_INFINITY,)
    if value == NEGATIVE_INFINITY:
        return (PG_NEGATIVE_INFINITY,)
    microseconds = (value.astimezone(UTC) - PG_EPOCH) // MICROSECOND
    if microseconds == _INFINITY_MICROSECONDS:  # the last instant Python has is sent as infinity, as asyncpg
        return (PG_INFINITY,)
    if microseconds == _NEGATIVE_INFINITY_MICROSECONDS:
        return (PG_NEGATIVE_INFINITY,)
    return (microseconds,)


def _local_offset() -> timezone:
    return timezone(datetime.now(UTC).astimezone().utcoffset() or timedelta(0))


def numeric_encode(value: Any) -> str:
    """A number as PostgreSQL reads it back as the same number, converted as asyncpg converts it (a
    float by its exact binary value; a NaN of any sign or kind is NaN)."""
    if not isinstance(value, Decimal):
        value = Decimal(value)
    return "NaN" if value.is_nan() else str(value)


async def install(connection: Any) -> None:
    """Put the codecs on `connection` (an asyncpg connection)."""
    await connection.set_type_codec("numeric", schema="pg_catalog", encoder=numeric_encode, decoder=Decimal,
                                    format="text")
    await connection.set_type_codec("timestamptz", schema="pg_catalog", encoder=timestamptz_encode,
                                    decoder=timestamptz_decode, format="tuple")
