"""The fast build (schema/execution/compile.py) writes some leaves without their serializers: it
leaves a UTC timestamp for orjson to write, whose text must be the DateTime scalar's own
(`datetime.isoformat`) for every instant, with or without microseconds, in any year; and it makes an
amount's and a UUID id's text inline, which must be what their serializers answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from asyncpg.pgproto.pgproto import UUID as PgUUID
from graphql import GraphQLID
from hypothesis import given
from hypothesis import strategies as st

from stateset_gateway.resolvers.money import money_text
from stateset_gateway.schema.execution import compile as compile_module
from stateset_gateway.schema.execution.serialize import serializer
from stateset_gateway.schema.types.scalars import DateTime


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
                    timezones=st.just(UTC)) | st.sampled_from([datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                                                               datetime(999, 1, 1, tzinfo=UTC)]))
def test_orjson_writes_a_utc_timestamp_as_the_datetime_scalar_does(instant: datetime) -> None:
    assert orjson.dumps({"t": instant}) == orjson.dumps({"t": DateTime.serialize(instant)})


def _made_inline(scalar: str, serialize: Any) -> Any:
    """The fast build's inline expression for `scalar` as a function, falling back to `serialize`."""
    expression = compile_module._MADE_INLINE[scalar].format(v="v", t="t", serialize="serialize(v)")
    return eval(f"lambda v: {expression}", {**compile_module._NAMES, "serialize": serialize})  # noqa: S307


@given(st.decimals(allow_nan=True, allow_infinity=False, places=2) | st.decimals(allow_nan=False, allow_infinity=False)
       | st.sampled_from([Decimal("-0.00"), Decimal("0.00"), Decimal("0E-2"), Decimal("-0E-2"), Decimal("1E+2"),
                          Decimal("149.99"), Decimal("-5.10"), Decimal("12345678901.50")]))
def test_an_amount_made_inline_is_money_text(amount: Decimal) -> None:
    try:
        expected: Any = money_text(amount)
    except Exception as exc:  # noqa: BLE001 - the same failure either way
        expected = type(exc)
    try:
        made: Any = _made_inline("Decimal", money_text)(amount)
    except Exception as exc:  # noqa: BLE001
        made = type(exc)
    assert made == expected


@given(st.uuids())
def test_an_id_made_inline_is_the_id_serializer_answer(value: uuid.UUID) -> None:
    id_serializer = serializer(GraphQLID)
    for read in (value, PgUUID(str(value)), str(value)):
        assert _made_inline("ID", id_serializer)(read) == id_serializer(read) == str(value)
