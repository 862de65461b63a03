"""Query cost, computed from the document before anything executes (CONTRACT section 6).

Each object field costs 1, scalars cost nothing, and a connection's selection is multiplied by the
page it asks for (`first`/`last`, else the default page size), so `orders(first: 100) { nodes {
customer { orders(first: 100) ... } } }` costs what it would load: about 10,000 rows, not 3 fields.
Nesting depth is bounded too. Operations over either limit are refused as request errors, and the
cost of every operation is reported in `extensions.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
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


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any], default_page: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page = default_page
        self.depth = 0

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

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLObjectType, depth: int,
                  seen: frozenset[str] = frozenset()) -> int:
        if selection_set is None:
            return 0
        self.depth = max(self.depth, depth)
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, depth)
            elif isinstance(node, InlineFragmentNode):
                on = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selection(node.selection_set, on if isinstance(on, GraphQLObjectType) else parent,
                                        depth, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: validation reports it
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection(fragment.selection_set, on if isinstance(on, GraphQLObjectType) else parent,
                                        depth, seen | {name})
        return total

    def field(self, node: FieldNode, parent: GraphQLObjectType, depth: int) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 0  # scalars, enums and __typename are free
        field_type = definition.type
        while isinstance(field_type, (GraphQLNonNull, GraphQLList)):
            field_type = field_type.of_type
        named = get_named_type(field_type)
        if not isinstance(named, GraphQLObjectType):
            return 1
        page = self._page_size(node, parent)
        multiplier = max(page, 1) if page is not None else 1
        return 1 + multiplier * self.selection(node.selection_set, named, depth + 1)


def operation_cost(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode,
                   variables: dict[str, Any] | None, default_page: int) -> Cost:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    if root is None:
        return Cost(0, 0)
    walker = _Walker(schema, fragments, variables or {}, default_page)
    cost = walker.selection(operation.selection_set, root, 1)
    return Cost(cost=cost, depth=walker.depth)
