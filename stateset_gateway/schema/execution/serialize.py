"""Leaf serializers, chosen once per GraphQL leaf type when a plan is made.

Each does what graphql-core's `complete_leaf_value` does for its type (`coerce_output_value`, and a
TypeError when that gives null), skipping the call where the answer is known from the Python type:
a `str` is its own String or ID (a UUID's ID, asyncpg's UUID too, is its `str`), an `int` in range
its own Int, a `bool` its own Boolean. Enum values are few and repeat on every row, so their output
is remembered per (Python type, value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from graphql import GraphQLEnumType, GraphQLLeafType
from graphql.pyutils import Undefined, inspect

from stateset_gateway.schema.types.scalars import OVERRIDES

Serialize = Callable[[Any], Any]

MIN_INT, MAX_INT = -(2**31), 2**31 - 1


def typed_serializer(leaf: GraphQLLeafType) -> tuple[type, Serialize] | None:
    """For the gateway's own scalars (schema/types/scalars.py: Decimal, DateTime), their Python type
    and their serialize, which answers a string for every value of that type: a value of it needs
    neither the null check nor the wrapper `serializer` puts around other values."""
    for definition in OVERRIDES.values():
        if definition.name == leaf.name and isinstance(definition.origin, type):
            return definition.origin, leaf.coerce_output_value
    return None


def serializer(leaf: GraphQLLeafType) -> Serialize:
    coerce = leaf.coerce_output_value

    def checked(value: Any) -> Any:
        out = coerce(value)
        if out is Undefined or out is None:
            raise TypeError(f"Expected `{inspect(leaf)}.coerce_output_value({inspect(value)})` to return "
                            f"non-nullable value, returned: {inspect(out)}")
        return out

    if isinstance(leaf, GraphQLEnumType):
        return _remembered(checked)
    name = leaf.name
    if name == "ID":  # graphql-core's ID answers str(value) for a UUID
        return lambda value: (value if type(value) is str else str(value) if isinstance(value, UUID)
                              else checked(value))
    if name == "String":
        return lambda value: value if type(value) is str else checked(value)
    if name == "Int":
        return lambda value: value if type(value) is int and MIN_INT <= value <= MAX_INT else checked(value)
    if name == "Boolean":
        return lambda value: value if type(value) is bool else checked(value)
    return checked


def _remembered(checked: Serialize) -> Serialize:
    seen: dict[tuple[type, Any], Any] = {}

    def serialize(value: Any) -> Any:
        key = (type(value), value)
        try:
            return seen[key]
        except KeyError:
            out = seen[key] = checked(value)
            return out
        except TypeError:  # an unhashable value: not remembered
            return checked(value)

    return serialize
