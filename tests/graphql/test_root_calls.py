"""Root fields are called without Strawberry's wrapper (schema/execution/roots.py), which passes some
arguments through as given instead of through Strawberry's `convert_arguments`: for every root
argument, what it passes through must be exactly what `convert_arguments` answers. (The calls
themselves are compared with Strawberry's path by the differential tests: the reference executor
goes through the wrapper.)"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.types.base import StrawberryOptional

from stateset_gateway.schema.execution.roots import as_given
from stateset_gateway.schema.schema import build_schema

_SCHEMA = build_schema()
_CONVERTER = _SCHEMA.schema_converter


def _root_arguments() -> list[tuple[str, StrawberryArgument]]:
    schema = _SCHEMA._schema
    found = []
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for name, definition in root.fields.items():
            for argument in definition.extensions["strawberry-definition"].arguments:
                found.append((_CONVERTER.config.name_converter.from_argument(argument), argument))
    return found


ARGUMENTS = _root_arguments()


def _inner(argument: StrawberryArgument) -> Any:
    kind = argument.type
    while isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind


def _converted(name: str, argument: StrawberryArgument, value: Any) -> dict[str, Any]:
    return convert_arguments({name: value}, [argument], scalar_registry=_CONVERTER.scalar_registry,
                             config=_CONVERTER.config)


def test_root_arguments_include_nullable_ones_and_built_in_scalars() -> None:
    """The classification is not vacuous: some arguments are passed through, some converted."""
    kinds = {as_given(argument) for _, argument in ARGUMENTS}
    assert (True, True) in kinds and (True, False) in kinds


def test_a_null_passed_through_is_what_strawberry_converts_it_to() -> None:
    for name, argument in ARGUMENTS:
        null_as_given, _ = as_given(argument)
        if null_as_given and isinstance(argument.type, StrawberryOptional):
            assert _converted(name, argument, None) == {argument.python_name: None}, name


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_built_in_scalar_passed_through_is_what_strawberry_converts_it_to(data: st.DataObject) -> None:
    name, argument = data.draw(st.sampled_from([(n, a) for n, a in ARGUMENTS if as_given(a)[1]]))
    kind = _inner(argument)
    strategy = {int: st.integers(-(2**31), 2**31 - 1), float: st.floats(allow_nan=False), bool: st.booleans()
                }.get(kind, st.text())
    value = data.draw(strategy)
    assert _converted(name, argument, value) == {argument.python_name: value}
