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
    if isinstance(leaf, GraphQLEnumType):
        return remembered_enum(leaf)[1]
    checked = _checked(leaf)
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


def _checked(leaf: GraphQLLeafType) -> Serialize:
    """`leaf`'s serialize with graphql-core's check that it gave a value."""
    coerce = leaf.coerce_output_value

    def checked(value: Any) -> Any:
        out = coerce(value)
        if out is Undefined or out is None:
            raise TypeError(f"Expected `{inspect(leaf)}.coerce_output_value({inspect(value)})` to return "
                            f"non-nullable value, returned: {inspect(out)}")
        return out

    return checked


def remembered_enum(leaf: GraphQLEnumType) -> tuple[dict[str, Any], Serialize]:
    """An enum's serializer, which remembers each output per (Python type, value), and the outputs
    of the plain `str` values it has seen (filled as it meets them): the fast build (compile.py)
    looks those up inline, without a call."""
    checked = _checked(leaf)
    seen: dict[tuple[type, Any], Any] = {}
    strings: dict[str, Any] = {}

    def serialize(value: Any) -> Any:
        key = (type(value), value)
        try:
            return seen[key]
        except KeyError:
            out = seen[key] = checked(value)
            if type(value) is str:
                strings[value] = out
            return out
        except TypeError:  # an unhashable value: not remembered
            return checked(value)

    return strings, serialize
