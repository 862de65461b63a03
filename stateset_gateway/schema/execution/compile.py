"""The fast build of a selection: one generated function per selection, for answers without errors.

A page of rows is thousands of field values, and the careful build (plan.py: one function per field,
each guarded, errors located and propagated) pays a call and a guard for each. When nothing fails,
none of that is needed: the generated function is a single dict display per object,

    {"id": s0(v0) if (v0 := parent.id) is not None else _fail(), "notes": None if (v1 := ...

reading columns as attributes, serializing leaves, and calling the fast builds of sub-selections.
It records nothing and changes nothing, so at the first null where none may be, failed load or
exception it gives up (`Fallback`), and the executor builds the whole answer again the careful
way, which reports every error exactly as graphql-core does.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLOutputType, is_leaf_type

from stateset_gateway.schema.execution.serialize import MAX_INT, MIN_INT, serializer, typed_serializer
from stateset_gateway.schema.execution.tree import FieldPlan, Kind, ObjectPlan, Run


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


def fast_builder(plan: ObjectPlan) -> FastBuild:
    """The generated build of `plan`'s fields, in response order."""
    names = itertools.count()
    env: dict[str, Any] = {"_fail": _fail, "_datetime": datetime, "_UTC": UTC}

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
        raw = f"run.loaded({bind(field)}, {bind(operator.attrgetter(relation.key))}(parent))"
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
    if is_leaf_type(graphql_type):
        serialize = f"{bind(serializer(graphql_type))}({var})"
        own = _OWN_VALUES.get(graphql_type.name)  # a value that is its own JSON: no call
        if own:
            return f"({var} if {own.format(v=var)} else {serialize})"
        typed = typed_serializer(graphql_type)  # an amount, a timestamp: their own serialize, directly
        if typed:
            origin, direct = typed
            return f"({bind(direct)}({var}) if type({var}) is {bind(origin)} else {serialize})"
        return serialize
    assert field.selection is not None
    return f"{bind(field.selection.fast)}({var}, run)"
