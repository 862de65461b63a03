"""The plan of an operation: its selection tree, made once and kept per document.

Fields are collected as graphql-core collects them (fragments merged, @skip / @include evaluated
against the request's variables), so a plan depends on the document, the operation and the values
of the variables those directives read, and on nothing else: arguments of nested fields, the caller
and its permissions are read per request by the executor (run.py).

Every selected field is one of:

- ROOT: a field of the operation's root type, run by its own graphql-core resolver (Strawberry's,
  with its permission extension and argument conversion): a few per request.
- VALUE: a function of the parent alone - a column or attribute (`getattr`), a `Derived` function,
  or a resolver that takes nothing but its parent (`Connection.edges`, `.nodes`, `.pageInfo`).
- RELATION: a `Relation` (schema/relations.py), loaded once per level for every parent at once.
- PAGE: a `Relation` of shape CONNECTION: one page per parent, the first pages batched.
- TOTAL: a connection's `totalCount`, counted only when selected.
- TYPENAME: `__typename`.

What none of these describes (introspection, subscriptions, a resolver below the root that needs
more than its parent) makes `plan_operation` answer None, and graphql-core runs the operation.
How each value becomes JSON (null checks, lists, leaf serializers, sub-selections) is decided here,
once: the careful build is one function per field, each locating and propagating errors as
graphql-core does; the fast build (compile.py), for answers without errors, one per selection.
Which statements read which columns is decided here too (`_projection`), and which to-one relations
are read with their parents' rows rather than by a statement of their own (joins.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_fields, collect_subfields
from graphql.execution.values import VariableValues
from graphql.language import Visitor
from graphql.pyutils import Path, is_iterable

from stateset_gateway.caches import SizedLRU, document_bytes
from stateset_gateway.schema.common import Connection
from stateset_gateway.schema.execution.compile import fast_builder
from stateset_gateway.schema.execution.joins import join_relations
from stateset_gateway.schema.execution.serialize import serializer
from stateset_gateway.resolvers.loaders import projects
from stateset_gateway.schema.execution.tree import (
    Complete,
    Emit,
    FieldPlan,
    Fields,
    Kind,
    ObjectPlan,
    Plan,
    Run,
    row_selections,
    union_of,
)
from stateset_gateway.schema.relations import Derived, Relation, Shape, declaration_of


INTROSPECTION = frozenset({"__schema", "__type"})
SKIP_INCLUDE = frozenset({"skip", "include"})


def _total_count_resolver() -> Callable[..., Any]:
    total = next(f for f in Connection.__strawberry_definition__.fields if f.python_name == "total_count")
    assert total.base_resolver is not None
    return total.base_resolver.wrapped_func


TOTAL_COUNT = _total_count_resolver()


class Unplannable(Exception):
    """A field the planner does not describe: the operation runs through graphql-core."""


@dataclass
class _Scope:
    """What collecting fields needs, for one request's variables."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode


def plan_operation(schema: GraphQLSchema, fragments: dict[str, FragmentDetails], variables: VariableValues,
                   operation: OperationDefinitionNode, *, nested_lists: bool = True) -> Plan | None:
    """The plan of `operation`, or None when some selected field is not described (see Unplannable)."""
    if operation.operation is OperationType.SUBSCRIPTION:
        return None
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        return None
    scope = _Scope(schema, fragments, variables, operation)
    try:
        grouped = collect_fields(schema, fragments, variables, root_type, operation).grouped_field_set
        root = _object_plan(scope, root_type, grouped, root=True)
        join_relations(root, lists=nested_lists)
        _with_fast_builds(root)
    except (Unplannable, RecursionError):
        return None
    return Plan(operation, root)


def refusal(parent: GraphQLObjectType, name: str, *, root: bool = False) -> str | None:
    """Why the planner does not describe `parent.name`, or None when it does."""
    if name in INTROSPECTION:
        return "introspection"
    if root:
        return None
    if parent.is_type_of is not None:
        return "type checks its values (is_type_of)"
    definition = (parent.fields[name].extensions or {}).get("strawberry-definition")
    if definition is None:
        return "not a Strawberry field"
    if declaration_of(definition) is not None or (definition.is_basic_field
                                                  and definition.default_resolver is getattr):
        return None
    resolver = definition.base_resolver
    if resolver is not None and resolver.wrapped_func is TOTAL_COUNT:
        return None
    if resolver is not None and _of_parent_alone(definition):
        return None
    return "a resolver without a declaration (schema/relations.py)"


def _of_parent_alone(definition: Any) -> bool:
    resolver = definition.base_resolver
    return (not resolver.is_async and not definition.extensions and not resolver.arguments
            and resolver.info_parameter is None and len(resolver.signature.parameters) == 1)


def _object_plan(scope: _Scope, object_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]], *,
                 root: bool = False) -> ObjectPlan:
    plan = ObjectPlan(object_type, [_field_plan(scope, object_type, key, details, root)
                                    for key, details in grouped.items()])
    plan.reads = union_of(f.reads for f in plan.fields)
    for field_plan in plan.fields:
        if field_plan.kind in (Kind.RELATION, Kind.PAGE, Kind.TOTAL):
            plan.loading.append(field_plan)
        elif field_plan.selection is not None and field_plan.selection.loads:
            plan.expand.append(field_plan)
    plan.build = _builder(plan)
    return plan


def _with_fast_builds(plan: ObjectPlan) -> None:
    """Each selection's fast build (compile.py), its sub-selections' first. Made once the joins are
    decided, as a joined relation is taken from its parent's row."""
    for field_plan in plan.fields:
        if field_plan.selection is not None:
            _with_fast_builds(field_plan.selection)
    plan.fast = fast_builder(plan)


def _field_plan(scope: _Scope, parent: GraphQLObjectType, key: str, details: list[FieldDetails],
                root: bool) -> FieldPlan:
    name = details[0].node.name.value
    if name == "__typename":
        plan = FieldPlan(key, parent, GraphQLField(GraphQLNonNull(scope.schema.type_map["String"])), details,
                         Kind.TYPENAME)
        plan.emit = _typename(parent.name)
        plan.reads = frozenset()
        return plan
    why = refusal(parent, name, root=root)
    if why is not None:
        raise Unplannable(f"{parent.name}.{name}: {why}")
    graphql_field = parent.fields[name]
    plan = FieldPlan(key, parent, graphql_field, details, _kind(graphql_field, root))
    definition = graphql_field.extensions["strawberry-definition"] if not root else None
    if plan.kind is Kind.VALUE:
        declared = declaration_of(definition)
        if isinstance(declared, Derived):
            plan.get, plan.reads = declared.function, declared.reads
        elif definition.is_basic_field:
            name = definition.python_name
            plan.get, plan.reads = operator.attrgetter(name), frozenset({name})
        else:
            plan.get = definition.base_resolver.wrapped_func
    elif plan.kind in (Kind.RELATION, Kind.PAGE):
        plan.relation = declaration_of(definition)
        plan.reads = frozenset({plan.relation.key})
    named, plan.list_depth = _unwrap(graphql_field.type)
    if is_object_type(named):
        grouped = collect_subfields(scope.schema, scope.fragments, scope.variables, scope.operation, named,
                                    details).grouped_field_set
        plan.selection = _object_plan(scope, named, grouped)
    elif not is_leaf_type(named):
        raise Unplannable(f"{parent.name}.{name}: abstract type {named}")
    if plan.relation is not None:
        plan.load = (plan.relation.loader, _projection(plan))
    elif root and plan.selection is not None:
        plan.rows_read = _rows_read(plan.selection)
    plan.complete = _completer(graphql_field.type, plan)
    plan.emit = _emitter(plan)
    return plan


def _projection(plan: FieldPlan) -> Fields:
    """The fields a relation's rows are loaded for: what its selection reads (of a connection, what
    its nodes read), when its loader selects only those (loaders.projecting) and no `reduce` sees
    the rows first."""
    relation = plan.relation
    assert relation is not None
    if relation.reduce is not None or not projects(relation.loader) or plan.selection is None:
        return None
    return _rows_read(plan.selection)


def _rows_read(selection: ObjectPlan) -> Fields:
    """What a selection reads of the rows answering it (a root field's resolver's, a relation's
    loader's): what the selections of those rows read (`row_selections`; a connection's cursors
    and pageInfo read the sort key and id, which a page always holds: resolvers/pagination.py)."""
    found = row_selections(selection)
    return None if found is None else union_of(inner.reads for inner in found)


def _kind(graphql_field: GraphQLField, root: bool) -> Kind:
    if root:
        return Kind.ROOT
    definition = graphql_field.extensions["strawberry-definition"]
    declared = declaration_of(definition)
    if isinstance(declared, Relation):
        return Kind.PAGE if declared.shape is Shape.CONNECTION else Kind.RELATION
    resolver = definition.base_resolver
    if resolver is not None and resolver.wrapped_func is TOTAL_COUNT:
        return Kind.TOTAL
    return Kind.VALUE


def _unwrap(graphql_type: GraphQLOutputType) -> tuple[Any, int]:
    depth = 0
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        depth += isinstance(graphql_type, GraphQLList)
        graphql_type = graphql_type.of_type
    return graphql_type, depth


def _typename(name: str) -> Emit:
    def emit(_parent: Any, _path: Path | None, _run: Run) -> str:
        return name

    return emit


def _emitter(plan: FieldPlan) -> Emit:
    """The field's value for one parent, then completed. Loaded fields read what the load phase left
    in the run; ROOT fields read what their resolver returned."""
    complete, key = plan.complete, plan.key
    if plan.kind is Kind.VALUE:
        get = plan.get
        assert get is not None
        named, _ = _unwrap(plan.definition.type)
        if is_leaf_type(named) and plan.list_depth == 0:
            return _leaf_value(plan, get, serializer(named))

        def value(parent: Any, path: Path | None, run: Run) -> Any:
            return complete(get(parent), path, key, run)

        return value
    if plan.kind is Kind.ROOT:
        def resolved(_parent: Any, path: Path | None, run: Run) -> Any:
            return complete(run.resolved(plan), path, key, run)

        return resolved
    if plan.kind is Kind.TOTAL:
        def total(parent: Any, path: Path | None, run: Run) -> Any:
            return complete(run.total(parent), path, key, run)

        return total
    relation = plan.relation
    assert relation is not None
    parent_key, reduce = operator.attrgetter(relation.key), relation.reduce

    def loaded(parent: Any, path: Path | None, run: Run) -> Any:
        value = run.loaded(plan, parent_key(parent))
        return complete(value if reduce is None else reduce(value), path, key, run)

    return loaded


def _leaf_value(plan: FieldPlan, get: Callable[[Any], Any], serialize: Callable[[Any], Any]) -> Emit:
    """A column's value in one call: most fields of a page are these."""
    non_null = plan.non_null
    message = f"Cannot return null for non-nullable field {plan.parent.name}.{plan.name}."

    def leaf_value(parent: Any, _path: Path | None, _run: Run) -> Any:
        value = get(parent)
        if value is None:
            if non_null:
                raise TypeError(message)
            return None
        return serialize(value)

    return leaf_value


def _completer(graphql_type: GraphQLOutputType, plan: FieldPlan) -> Complete:
    """graphql-core's `complete_value` for one field's type, unrolled once per plan."""
    if isinstance(graphql_type, GraphQLNonNull):
        inner = _completer(graphql_type.of_type, plan)
        message = f"Cannot return null for non-nullable field {plan.parent.name}.{plan.name}."

        def non_null(value: Any, path: Path | None, key: str | int, run: Run) -> Any:
            if value is None:
                raise TypeError(message)
            return inner(value, path, key, run)

        return non_null
    if isinstance(graphql_type, GraphQLList):
        item = _completer(graphql_type.of_type, plan)
        item_non_null = is_non_null_type(graphql_type.of_type)
        nodes = plan.nodes
        message = f"Expected Iterable, but did not find one for field '{plan.parent.name}.{plan.name}'."

        def each(value: Any, path: Path | None, key: str | int, run: Run) -> Any:
            if value is None:
                return None
            if not is_iterable(value):
                raise GraphQLError(message)
            here = Path(path, key, None)
            out = []
            for index, element in enumerate(value):
                try:
                    out.append(item(element, here, index, run))
                except Exception as exc:  # noqa: BLE001 - a field error, located like graphql-core's
                    out.append(run.field_error(exc, here, index, nodes, item_non_null))
            return out

        return each
    if is_leaf_type(graphql_type):
        serialize = serializer(graphql_type)

        def leaf(value: Any, _path: Path | None, _key: str | int, _run: Run) -> Any:
            return None if value is None else serialize(value)

        return leaf
    selection = plan.selection
    assert selection is not None

    def obj(value: Any, path: Path | None, key: str | int, run: Run) -> Any:
        return None if value is None else selection.build(value, Path(path, key, None), run)

    return obj


def _builder(plan: ObjectPlan) -> Callable[[Any, Path, Run], dict[str, Any]]:
    entries = [(f.key, f.emit, f.nodes, f.non_null) for f in plan.fields]

    def build(parent: Any, path: Path, run: Run) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, emit, nodes, non_null in entries:
            try:
                out[key] = emit(parent, path, run)
            except Exception as exc:  # noqa: BLE001 - a field error, located like graphql-core's
                out[key] = run.field_error(exc, path, key, nodes, non_null)
        return out

    return build


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        if node.name.value in SKIP_INCLUDE:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables @skip / @include read anywhere in `document`: the plan depends on their values."""
    visitor = _DirectiveVariables()
    visit(document, visitor)
    return tuple(sorted(visitor.names))


@dataclass(frozen=True)
class ParsedDocument:
    """What executing any operation of a document needs from it, found once per document."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]  # by name; None: the only one, if only one
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    directive_variables: tuple[str, ...]

    @classmethod
    def of(cls, document: DocumentNode) -> ParsedDocument | None:
        """None for a document whose fragments declare variables (graphql-core's experimental
        fragment arguments): left to graphql-core."""
        operations: dict[str | None, OperationDefinitionNode] = {}
        definitions = {}
        unnamed = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                unnamed.append(definition)
                if definition.name:
                    operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    return None
                definitions[definition.name.value] = definition
        if len(unnamed) == 1:
            operations[None] = unnamed[0]
        return cls(document, operations, definitions,
                   {name: FragmentDetails(definition) for name, definition in definitions.items()},
                   directive_variables(document))


class PlanCache:
    """Parsed documents and plans by (document, operation, values of the @skip / @include
    variables), in one bounded cache (`[cache] max_size_mb`'s share for plans).

    Documents are keyed by identity (the endpoint keeps one parsed document per query text); each
    entry holds its document, so an id is never mistaken for a later document's."""

    def __init__(self, entries: SizedLRU[Any, Any], *, nested_lists: bool = True) -> None:
        self._entries = entries
        self._nested_lists = nested_lists  # see joins.join_relations

    def document(self, document: DocumentNode) -> ParsedDocument | None:
        key = id(document)
        hit = self._entries.get(key)
        if hit is not None and hit[0] is document:
            return hit[1]
        parsed = ParsedDocument.of(document)
        self._entries.put(key, (document, parsed), _size(document))
        return parsed

    def plan(self, schema: GraphQLSchema, parsed: ParsedDocument, operation: OperationDefinitionNode,
             variables: VariableValues) -> Plan | None:
        document, coerced = parsed.document, variables.coerced
        key = (id(document), id(operation), *(coerced.get(name) for name in parsed.directive_variables))
        hit = self._entries.get(key)
        if hit is not None and hit[0] is document:
            return hit[1]
        plan = plan_operation(schema, parsed.fragments, variables, operation, nested_lists=self._nested_lists)
        self._entries.put(key, (document, plan), _size(document))
        return plan


def _size(document: DocumentNode) -> int:
    """A plan is about as large as the document it was made from."""
    source = document.loc.source.body if document.loc is not None else ""
    return document_bytes(source)
