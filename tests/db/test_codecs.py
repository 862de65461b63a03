"""The gateway's codecs for amounts and timestamps (db/codecs.py) against asyncpg's own: the same
values sent give the same values back, of the same type and zone, and the same refusals, on
generated inputs. asyncpg's codecs are the reference, on a connection of their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text

from stateset_gateway.config import load_settings
from stateset_gateway.db import codecs
from stateset_gateway.db.engine import Database
from tests.support import services

EXAMPLES = 400

amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**10), max_value=10**10),
    st.decimals(allow_nan=False, allow_infinity=False),  # any digits and exponent (some PostgreSQL refuses)
    st.builds(lambda digits, exponent: Decimal(digits).scaleb(exponent),
              st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=-40, max_value=40)),
    st.sampled_from([Decimal("-0.00"), Decimal("0E-7"), Decimal("1E+1"), Decimal("NaN"), Decimal("Infinity"),
                     Decimal("-Infinity"), Decimal("sNaN"), Decimal("-NaN")]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, width=32),
    st.from_regex(r"-?[0-9]{1,8}(\.[0-9]{1,4})?", fullmatch=True) | st.sampled_from(["abc", "", "1e5", " 7 "]),
)
zones = st.one_of(st.just(UTC), st.none(), st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(min_value=-23 * 60, max_value=23 * 60)))
instants = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones),
    st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30)),
    st.sampled_from([codecs.INFINITY, codecs.NEGATIVE_INFINITY, codecs.INFINITY.replace(tzinfo=UTC),
                     datetime(2000, 1, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]),
)


def _collect(strategy: st.SearchStrategy[Any]) -> list[Any]:
    found: list[Any] = []

    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


async def _answer(connection: asyncpg.Connection, sql: str, value: Any, exact: bool) -> tuple[str, Any]:
    """What a client of `connection` gets for `value`: a refusal, or the value with its type and zone,
    written out (`exact`) or as the number it is (`Decimal('1E+3')` and `Decimal('1000')` are equal)."""
    try:
        got = await connection.fetchval(sql, value)
    except (asyncpg.PostgresError, OverflowError, ValueError, TypeError, ArithmeticError) as exc:
        return "refused", type(exc).__name__
    if not exact and isinstance(got, Decimal) and got.is_finite():
        return "value", (type(got), got)
    return "value", (type(got), repr(got), repr(getattr(got, "tzinfo", None)))


@pytest.fixture
async def connections() -> Any:
    if "postgresql" not in services.backends():
        pytest.skip("PostgreSQL is not running here (in CI it must be)")
    reference = await asyncpg.connect(services.POSTGRES_ADMIN_URL)
    gateway = await asyncpg.connect(services.POSTGRES_ADMIN_URL)
    await codecs.install(gateway)
    yield gateway, reference
    await gateway.close()
    await reference.close()


# A numeric with a scale (every amount the gateway stores is NUMERIC(12, 2), sums of them too) comes
# back digit for digit. One without a scale may come back written out where asyncpg writes an exponent
# (asyncpg's Decimal('2.4928199E+27') is Decimal('2492819900000000000000000000') here): the same number.
@pytest.mark.parametrize(("sql", "strategy", "exact"), [
    ("SELECT $1::numeric", amounts, False),
    ("SELECT $1::numeric(12, 2)", amounts, True),
    ("SELECT round($1::numeric, 4)", amounts, True),
    ("SELECT sum(x) FROM (VALUES ($1::numeric(12, 2)), (0.10)) AS t(x)", amounts, True),
    ("SELECT $1::timestamptz", instants, True),
    ("SELECT ($1::timestamptz + interval '1 microsecond')", instants, True),
], ids=["numeric", "numeric(12,2)", "numeric-scale-4", "sum", "timestamptz", "timestamptz+1us"])
async def test_values_come_back_as_asyncpg_gives_them(connections: Any, sql: str, strategy: Any,
                                                      exact: bool) -> None:
    gateway, reference = connections
    differ = []
    for value in _collect(strategy):
        ours, theirs = await _answer(gateway, sql, value, exact), await _answer(reference, sql, value, exact)
        if ours != theirs:
            differ.append((value, ours, theirs))
    assert not differ, differ[:5]



async def test_every_connection_of_the_gateways_engine_reads_through_them() -> None:
    """The engine's `connect` listener puts the codecs on each new connection, a replacement for an
    invalidated one included. Seen where the two differ in writing: an unscaled numeric with zeros
    before its point (asyncpg's own codec gives it an exponent)."""
    if "postgresql" not in services.backends():
        pytest.skip("PostgreSQL is not running here (in CI it must be)")
    db = Database(load_settings(database_url=services.POSTGRES_ADMIN_URL))
    probe = text("SELECT CAST('2490000' AS numeric), CAST('2026-01-02 03:04:05.000006+00' AS timestamptz)")
    try:
        for _ in range(2):
            async with db.engine.connect() as connection:
                number, instant = (await connection.execute(probe)).one()
                assert repr(number) == "Decimal('2490000')"  # asyncpg's own: Decimal('2.49E+6')
                assert instant == datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC) and instant.tzinfo is UTC
                await connection.invalidate()  # the pool connects anew for the next round
    finally:
        await db.dispose()
