"""Root fields' resolvers called without Strawberry's per-call wrapper.

Strawberry wraps each resolver for the general case: on every call it builds the field's extension
chain (functools.partial over each extension), converts every declared argument (name conversion
included, given or not), inspects the resolver's reserved parameters and awaits through several
layers. On the flat 50-order list that wrapper was a tenth of the request's instructions. A root field
of this schema has one shape: an async resolver `(self, info, **arguments)` whose one extension is its
permission (schema/permissions.py). For such a field, `root_calls` holds a function doing the same
steps in Strawberry's order, with Strawberry's own pieces: the given arguments converted by
`convert_arguments` (but for nulls and built-in scalars, which it answers as given: `as_given`), then the `PermissionExtension` deciding (its `resolve_async`, so a refusal is
what Strawberry answers), then the resolver. A field whose resolver the endpoint memoizes (a query's
root field: one answer per request for the same arguments, schema/http.py) is memoized the same way.
Any other field keeps Strawberry's wrapper.

graphql-core's run of the same fields (the reference executor) goes through the wrapper, so the
differential tests compare the two paths on every query the suite sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLResolveInfo, GraphQLSchema
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.scalars import ID
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

from stateset_gateway.schema.context import memoized

RootCall = Callable[..., Any]
"""A resolver, `call(source, info, **arguments)`, as graphql-core calls `GraphQLField.resolve`."""


def root_calls(schema: GraphQLSchema) -> dict[tuple[str, str], RootCall]:
    """(root type name, field name) -> the direct call of each query and mutation field that has one."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    if strawberry_schema is None:
        return {}
    converter = strawberry_schema.schema_converter
    if converter._exception_handler_specs:  # handlers turn errors into results: Strawberry's wrapper only
        return {}
    calls: dict[tuple[str, str], RootCall] = {}
    for root in (schema.query_type, schema.mutation_type):
        if root is None:
            continue
        for name, definition in root.fields.items():
            call = _direct_call(definition, converter.config, converter.scalar_registry)
            if call is not None:  # answered once per request where the field is (schema/http.py)
                calls[root.name, name] = memoized(call) if getattr(definition.resolve, "memoized", False) else call
    return calls


def _direct_call(definition: GraphQLField, config: Any, scalar_registry: Any) -> RootCall | None:
    field = definition.extensions.get("strawberry-definition") if definition.extensions else None
    if not isinstance(field, StrawberryField) or field.base_resolver is None:
        return None
    resolver = field.base_resolver
    if (not resolver.is_async or resolver.self_parameter is None or resolver.info_parameter is None
            or resolver.root_parameter is not None or resolver.parent_parameter is not None):
        return None
    if len(field.extensions) != 1 or type(field.extensions[0]) is not PermissionExtension:
        return None
    extension = field.extensions[0]
    if type(extension).map_arguments is not FieldExtension.map_arguments:
        return None
    function = resolver.wrapped_func
    info_name = resolver.info_parameter.name
    info_class = config.info_class
    plain = {config.name_converter.from_argument(argument): (argument, *as_given(argument))
             for argument in field.arguments}

    async def resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        return await function(source, **{info_name: info}, **kwargs)

    async def call(source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        kwargs: dict[str, Any] = {}
        converting: dict[str, Any] = {}
        for name, value in arguments.items():
            argument, null_as_given, value_as_given = plain[name]
            if value_as_given or (value is None and null_as_given):
                kwargs[argument.python_name] = value
            else:
                converting[name] = value
        if converting:
            kwargs.update(convert_arguments(converting, [plain[name][0] for name in converting],
                                            scalar_registry=scalar_registry, config=config, info=strawberry_info))
        return await extension.resolve_async(resolve, source, strawberry_info, **kwargs)

    return call


# The Python types of GraphQL's own scalars, whose values Strawberry's convert_argument answers as given.
_BUILT_IN_SCALARS = (str, int, float, bool, ID)


def as_given(argument: StrawberryArgument) -> tuple[bool, bool]:
    """Whether Strawberry's `convert_argument` answers an argument's value as it is given: (a null,
    any value). A null is answered as null unless a `Maybe` wraps the type (it answers `Some(None)`
    or refuses the null); a value of a built-in scalar is answered as given. Anything else (inputs,
    enums, lists, the gateway's own scalars) is converted by Strawberry."""
    kind = argument.type
    while isinstance(kind, StrawberryOptional):
        if isinstance(kind, StrawberryMaybe):
            return False, False
        kind = kind.of_type
    return True, kind in _BUILT_IN_SCALARS
