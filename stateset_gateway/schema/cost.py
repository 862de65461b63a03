"""Query cost, computed from the document before anything executes (CONTRACT section 6).

Each object field costs 1, and so does a leaf whose resolver waits on the database (a connection's
`totalCount` is a COUNT, `orderCount` a grouped COUNT); other leaves cost nothing. A connection's
selection is multiplied by the page it asks for (`first`/`last`, else the default page size), but
for the leaves it runs once (its `totalCount`), so
`orders(first: 100) { nodes { customer { orders(first: 100) ... } } }` costs what it would load:
about 10,000 rows, not 3 fields. Nesting depth is bounded too. Operations over either limit are
refused as request errors, and the cost of every operation is reported in `extensions.cost`.

The walk is linear in the document's size whatever its shape: each fragment is costed once and its
cost reused at every spread, so fragments spreading each other twice, thirty levels deep, cost one
pass over thirty fragments (and report the 2^30 they would expand to), not 2^30 passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class Cost:
    cost: int
    depth: int


@dataclass(frozen=True)
class _Measure:
    """A selection set's cost, the part of it paid once whatever the page (`once`: the leaves that
    wait on the database, such as a connection's `totalCount`), and the number of selection-set
    levels it nests, itself included."""

    cost: int
    depth: int
    once: int = 0


_FREE = _Measure(0, 0)


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any], default_page: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page = default_page
        self.measured: dict[str, _Measure] = {}
        self.measuring: set[str] = set()

    def _page_size(self, field: FieldNode, parent: GraphQLObjectType) -> int | None:
        definition = parent.fields.get(field.name.value)
        if definition is None or not any(name in definition.args for name in PAGE_ARGUMENTS):
            return None
        for argument in field.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int):
                    return given
        return self.default_page

    def _condition(self, type_condition: NamedTypeNode | None, parent: GraphQLObjectType) -> GraphQLObjectType:
        on = self.schema.get_type(type_condition.name.value) if type_condition else parent
        return on if isinstance(on, GraphQLObjectType) else parent

    def fragment(self, name: str, parent: GraphQLObjectType) -> _Measure:
        """A fragment's measure, computed at its first spread and reused at every other one."""
        measured = self.measured.get(name)
        if measured is not None:
            return measured
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:  # unknown or cyclic: validation reports it
            return _FREE
        self.measuring.add(name)
        measured = self.measured[name] = self.selection(fragment.selection_set,
                                                        self._condition(fragment.type_condition, parent))
        self.measuring.discard(name)
        return measured

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLObjectType) -> _Measure:
        if selection_set is None:
            return _FREE
        cost, below, once = 0, 0, 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                part = self.field(node, parent)
                cost, below = cost + part.cost, max(below, part.depth)
                once += part.cost if node.selection_set is None else 0
                continue
            if isinstance(node, InlineFragmentNode):
                part = self.selection(node.selection_set, self._condition(node.type_condition, parent))
            elif isinstance(node, FragmentSpreadNode):
                part = self.fragment(node.name.value, parent)
            else:
                continue
            # a fragment's selection sits at this level: its own level is this one
            cost, below, once = cost + part.cost, max(below, part.depth - 1), once + part.once
        return _Measure(cost, below + 1, once)

    def field(self, node: FieldNode, parent: GraphQLObjectType) -> _Measure:
        """The field's cost, and the levels of selection below it."""
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return _FREE  # __typename, or unknown: validation reports it
        if node.selection_set is None:
            return _Measure(1 if waits_on_database(definition) else 0, 0)
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            return _Measure(1, 0)
        page = self._page_size(node, parent)
        multiplier = max(page, 1) if page is not None else 1
        below = self.selection(node.selection_set, named)
        return _Measure(1 + below.once + multiplier * (below.cost - below.once), below.depth)


def waits_on_database(definition: GraphQLField) -> bool:
    """A leaf whose resolver is a coroutine waits on the database: it costs as much as a relation."""
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    resolver = getattr(strawberry_field, "base_resolver", None)
    return resolver is not None and resolver.is_async


def page_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables that give a page size (`first: $n`) anywhere in `document`: the only values of
    a request a cost depends on (`_Walker._page_size`), so a cost is the same for every request
    whose values of these are the same."""
    names: set[str] = set()
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            names.update(argument.value.name.value for argument in node.arguments or ()
                         if argument.name.value in PAGE_ARGUMENTS and isinstance(argument.value, VariableNode))
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return tuple(sorted(names))


def operation_cost(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode,
                   variables: dict[str, Any] | None, default_page: int) -> Cost:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = {OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type}.get(operation.operation, schema.query_type)
    if root is None:
        return Cost(0, 0)
    measure = _Walker(schema, fragments, variables or {}, default_page).selection(operation.selection_set, root)
    return Cost(cost=measure.cost, depth=measure.depth)
