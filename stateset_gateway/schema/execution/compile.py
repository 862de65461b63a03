"""The fast build of a selection: one generated function per selection, for answers without errors.

A page of rows is thousands of field values, and the careful build (plan.py: one function per field,
each guarded, errors located and propagated) pays a call and a guard for each. When nothing fails,
none of that is needed: the generated function is a single dict display per object,

    {"id": s0(v0) if (v0 := parent.id) is not None else _fail(), "notes": None if (v1 := ...

reading columns as attributes, serializing leaves, taking a relation read with its parent (joins.py)
from the parent's row, and calling the fast builds of sub-selections. It records nothing and changes nothing, so at the first null where none may be, failed load or
exception it gives up (`Fallback`), and the executor builds the whole answer again the careful
way, which reports every error exactly as graphql-core does.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as PgUUID
from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLOutputType, is_leaf_type

from stateset_gateway.schema.execution.serialize import MAX_INT, MIN_INT, remembered_enum, serializer, typed_serializer
from stateset_gateway.schema.execution.tree import NOT_READ, FieldPlan, Kind, ObjectPlan, Run


FastBuild = Callable[[Any, Run], dict[str, Any]]


class Fallback(Exception):
    """The fast build met what only the careful build handles: a null in a non-null position."""


def _fail() -> Any:
    raise Fallback


# The values the body's JSON writes as serialize.serializer would answer them, tested inline and left
# as they are (most leaves of a page are these). A UTC timestamp is one: orjson writes it in C exactly
# as the DateTime scalar's `datetime.isoformat` does (microseconds only when there are some, "+00:00"),
# where the call costs more than the rest of the field. The answer is JSON text, never read as data in
# between (run.py builds it for schema/http.py to dump), so only the text must be the same.
_OWN_VALUES = {
    "String": "type({v}) is str",
    "ID": "type({v}) is str",
    "Int": f"type({{v}}) is int and {MIN_INT} <= {{v}} <= {MAX_INT}",
    "Boolean": "type({v}) is bool",
    "DateTime": "type({v}) is _datetime and {v}.tzinfo is _UTC",
}
# The values whose JSON is made inline, where the call to their serializer costs more than the work:
# an id read as a UUID (asyncpg's or Python's) is its `str`, as serialize.serializer answers; an amount
# with two places (every money column's) is its `str`, money_text's first test, so `{t}` holds that
# text (tests/graphql/test_leaf_text.py holds both to their serializers). Anything else: `{serialize}`.
_MADE_INLINE = {
    "ID": "(str({v}) if type({v}) is _PgUUID or type({v}) is _UUID else {serialize})",
    "Decimal": "({t} if type({v}) is _Decimal and ({t} := str({v}))[-3:-2] == '.' and {t} != '-0.00'"
               " else {serialize})",
}
# What the generated source refers to by name, besides what each build binds (`_0`, `_1`...).
_NAMES: dict[str, Any] = {"_fail": _fail, "_datetime": datetime, "_UTC": UTC, "_UUID": UUID, "_PgUUID": PgUUID,
                          "_Decimal": Decimal, "_NOT_READ": NOT_READ}


def fast_builder(plan: ObjectPlan) -> FastBuild:
    """The generated build of `plan`'s fields, in response order."""
    names = itertools.count()
    env = dict(_NAMES)

    def bind(value: Any) -> str:
        name = f"_{next(names)}"
        env[name] = value
        return name

    items = [f"{field.key!r}: {_field(field, bind, names)}" for field in plan.fields]
    source = "def build(parent, run):\n    return {" + ", ".join(items) + "}\n"
    # A client's text enters the source only as repr() of its response keys (GraphQL names).
    exec(compile(source, f"<selection on {plan.type.name}>", "exec"), env)  # noqa: S102
    return env["build"]  # type: ignore[no-any-return]


def _field(field: FieldPlan, bind: Callable[[Any], str], names: itertools.count[int]) -> str:
    """The expression of one field's JSON value."""
    if field.kind is Kind.TYPENAME:
        return repr(field.parent.name)
    if field.kind is Kind.ROOT:
        raw = f"run.resolved({bind(field)})"
    elif field.kind is Kind.TOTAL:
        raw = "run.total(parent)"
    elif field.kind is Kind.VALUE:
        get = field.get
        attribute = _attribute_name(get)
        raw = f"parent.{attribute}" if attribute else f"{bind(get)}(parent)"
    else:
        relation = field.relation
        assert relation is not None
        plan = bind(field)
        raw = f"run.loaded({plan}, {bind(operator.attrgetter(relation.key))}(parent))"
        if field.joined is not None:  # the row its parent holds (joins.py), unless the run must not take it
            held = f"h{next(names)}"
            raw = (f"({held} if ({held} := getattr(parent, {field.joined.attribute!r}, _NOT_READ)) is not _NOT_READ"
                   f" and {plan} not in run.unjoined else {raw})")
        if relation.reduce is not None:
            raw = f"{bind(relation.reduce)}({raw})"
    return _complete(field.definition.type, raw, field, bind, names)


def _attribute_name(get: Any) -> str | None:
    """The attribute an `operator.attrgetter` of one plain name reads, if `get` is one."""
    if not isinstance(get, operator.attrgetter):
        return None
    _, args = get.__reduce__()
    name = args[0] if len(args) == 1 else None
    return name if isinstance(name, str) and name.isidentifier() and "." not in name else None


def _complete(graphql_type: GraphQLOutputType, raw: str, field: FieldPlan, bind: Callable[[Any], str],
              names: itertools.count[int]) -> str:
    """The expression completing `raw` (an expression of the value) as `graphql_type`."""
    var = f"v{next(names)}"
    if isinstance(graphql_type, GraphQLNonNull):
        present = _present(graphql_type.of_type, var, field, bind, names)
        return f"({present} if ({var} := {raw}) is not None else _fail())"
    return f"(None if ({var} := {raw}) is None else {_present(graphql_type, var, field, bind, names)})"


def _present(graphql_type: GraphQLOutputType, var: str, field: FieldPlan, bind: Callable[[Any], str],
             names: itertools.count[int]) -> str:
    """The expression completing `var`, known not to be null, as the nullable `graphql_type`."""
    if isinstance(graphql_type, GraphQLList):
        item = f"x{next(names)}"
        inner = _complete(graphql_type.of_type, item, field, bind, names)
        return f"([{inner} for {item} in {var}] if type({var}) is list else _fail())"
    if isinstance(graphql_type, GraphQLEnumType):  # a value seen before: its output, looked up
        known, remembered = remembered_enum(graphql_type)
        out = f"o{next(names)}"
        return (f"({out} if type({var}) is str and ({out} := {bind(known)}.get({var})) is not None"
                f" else {bind(remembered)}({var}))")
    if is_leaf_type(graphql_type):
        serialize = f"{bind(serializer(graphql_type))}({var})"
        inline = _MADE_INLINE.get(graphql_type.name)
        if inline:
            serialize = inline.format(v=var, t=f"t{next(names)}", serialize=serialize)
        own = _OWN_VALUES.get(graphql_type.name)  # a value that is its own JSON: no call
        if own:
            return f"({var} if {own.format(v=var)} else {serialize})"
        if inline:
            return serialize
        typed = typed_serializer(graphql_type)  # an amount, a timestamp: their own serialize, directly
        if typed:
            origin, direct = typed
            return f"({bind(direct)}({var}) if type({var}) is {bind(origin)} else {serialize})"
        return serialize
    assert field.selection is not None
    return f"{bind(field.selection.fast)}({var}, run)"
