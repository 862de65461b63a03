"""GraphQL's Decimal and DateTime read and written by the rules REST follows, so both transports
accept the same values and answer the same text.

They keep Strawberry's names and descriptions (the SDL is unchanged); `schema.build_schema` puts them
in place of Strawberry's own, which take `"1_000"` as money and a time without an offset as an instant.
A value they refuse is a GraphQLError of the request: a 400 VALIDATION_ERROR, never a resolver crash.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import dateutil.parser
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from stateset_gateway.resolvers.inputs import InvalidInstant, as_utc
from stateset_gateway.resolvers.money import money_text, parse_money


def _parse_money(value: object) -> Decimal:
    try:
        return parse_money(value)
    except ValueError as exc:
        raise GraphQLError(f"Decimal cannot represent {value!r}: {exc}") from None


def _parse_instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime cannot represent {value!r}: expected an RFC 3339 string")
    try:
        return as_utc(dateutil.parser.isoparse(value))
    except InvalidInstant as exc:
        raise GraphQLError(f"DateTime cannot represent {value!r}: {exc}") from None
    except (ValueError, OverflowError):
        raise GraphQLError(f"DateTime cannot represent {value!r}: expected an RFC 3339 string") from None


Money = ScalarDefinition(
    name="Decimal", description="Decimal (fixed-point)", specified_by_url=None,
    serialize=money_text, parse_value=_parse_money, parse_literal=None, origin=Decimal,
)
DateTime = ScalarDefinition(
    name="DateTime", description="Date with time (isoformat)", specified_by_url=None,
    serialize=datetime.isoformat, parse_value=_parse_instant, parse_literal=None, origin=datetime,
)

OVERRIDES: dict[object, ScalarDefinition] = {Decimal: Money, datetime: DateTime}
