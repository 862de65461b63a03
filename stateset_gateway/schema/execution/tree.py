"""The plan tree: what kind each selected field is, and the selections it is made of.

plan.py builds it, compile.py generates its fast builds, run.py executes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path

from stateset_gateway.resolvers.loaders import Fields, Join
from stateset_gateway.schema.common import Connection, Edge
from stateset_gateway.schema.context import BatchLoad
from stateset_gateway.schema.relations import Relation

Load = tuple[BatchLoad, Fields]
"""A batch function and the fields its rows are read for: what a run keys its loaded values by, so a
row loaded with some columns is never read for others."""


NOT_READ = object()
"""What a parent row holds for a joined relation (FieldPlan.joined) whose statement did not read it."""


class Run(Protocol):
    """What a plan's emitters ask of the run that executes it (run.py): the values loaded for this
    request, and where to record a field's error. Declared here so that the plan, its compiled
    builders and the run depend on this module, not on each other."""

    unjoined: set[FieldPlan]
    """Joined fields whose value is not always the one each parent holds (refused, or a key already
    loaded otherwise): the fast build reads those through `loaded`, never from the parent."""

    def resolved(self, field_plan: FieldPlan) -> Any: ...

    def loaded(self, field_plan: FieldPlan, key: Any) -> Any: ...

    def total(self, connection: Any) -> Any: ...

    def field_error(self, exc: Exception, path: Path | None, key: str | int, nodes: list[FieldNode],
                    non_null: bool) -> None: ...

Complete = Callable[[Any, Path | None, "str | int", Run], Any]
"""`complete(value, parent_path, key, run)`: the JSON of `value` at `parent_path` + `key`."""

Emit = Callable[[Any, Path | None, Run], Any]
"""`emit(parent, parent_path, run)`: the JSON of one field of `parent`."""


class Kind(Enum):
    """What a field is, for the executor (see plan.py)."""

    ROOT = "root"
    VALUE = "value"
    RELATION = "relation"
    PAGE = "page"
    TOTAL = "total"
    TYPENAME = "typename"


@dataclass(eq=False)
class FieldPlan:
    """One response key of a selection. Hashable by identity: the executor keys its per-request
    state (loaded values, refusals, arguments) by field plan."""

    key: str
    parent: GraphQLObjectType
    definition: GraphQLField
    details: list[FieldDetails]
    kind: Kind
    get: Callable[[Any], Any] | None = None  # VALUE
    relation: Relation | None = None  # RELATION, PAGE
    load: Load | None = None  # RELATION, PAGE: what loads it, for which fields of its rows
    reads: Fields = None  # the attributes of the parent this field reads
    rows_read: Fields = None  # ROOT: the attributes of the rows its resolver answers that are read
    joined: Join | None = None  # RELATION: read with its parents' rows (joins.py)
    selection: ObjectPlan | None = None  # the plan of the innermost object type, if any
    list_depth: int = 0
    complete: Complete = field(init=False, repr=False)
    emit: Emit = field(init=False, repr=False)

    @property
    def name(self) -> str:
        return self.details[0].node.name.value

    @property
    def nodes(self) -> list[FieldNode]:
        return [detail.node for detail in self.details]

    @property
    def non_null(self) -> bool:
        return is_non_null_type(self.definition.type)


@dataclass(eq=False)
class ObjectPlan:
    """The fields selected on one object type at one place in the document."""

    type: GraphQLObjectType
    fields: list[FieldPlan]
    loading: list[FieldPlan] = field(default_factory=list)  # RELATION / PAGE / TOTAL fields
    expand: list[FieldPlan] = field(default_factory=list)  # VALUE fields whose selection loads
    reads: Fields = None  # the attributes of its objects its fields read (None: unknown)
    build: Callable[[Any, Path, Run], dict[str, Any]] = field(init=False, repr=False)  # careful: errors
    fast: Callable[[Any, Run], dict[str, Any]] = field(init=False, repr=False)  # no errors (compile.py)

    @property
    def loads(self) -> bool:
        """Whether executing this selection loads anything (here or below a plain value)."""
        return bool(self.loading or self.expand)


@dataclass(eq=False)
class Plan:
    operation: OperationDefinitionNode
    root: ObjectPlan
    calls_resolvers: bool = field(init=False)  # a root field has a resolver to call (not only __typename)

    def __post_init__(self) -> None:
        self.calls_resolvers = any(f.kind is Kind.ROOT for f in self.root.fields)

    @property
    def serial(self) -> bool:
        return self.operation.operation is OperationType.MUTATION


def union_of(reads: Iterable[Fields]) -> Fields:
    """Everything the readers read (None as soon as one reads every column); the joins of one
    relation (one `attribute`), read for different fields, become one join reading all of them."""
    names: set[str] = set()
    joins: dict[str, Join] = {}
    for some in reads:
        if some is None:
            return None
        for item in some:
            if type(item) is not Join:
                names.add(item)  # type: ignore[arg-type]
                continue
            known = joins.get(item.attribute)
            joins[item.attribute] = (item if known is None or known == item
                                     else replace(known, fields=union_of((known.fields, item.fields))))
    return frozenset((*names, *joins.values()))


def is_a(selection: ObjectPlan, cls: type) -> bool:
    """Whether `selection` is of the Strawberry type `cls` (or a subclass: a generic's instance)."""
    definition = (selection.type.extensions or {}).get("strawberry-definition")
    return definition is not None and isinstance(definition.origin, type) and issubclass(definition.origin, cls)


def row_selections(selection: ObjectPlan) -> list[ObjectPlan] | None:
    """The selections whose objects are the rows answering `selection`: itself, or for a connection
    its nodes' and its edges' nodes' (None: another field of the connection reads something else)."""
    if not is_a(selection, Connection):
        return [selection]
    found: list[ObjectPlan] = []
    for field_plan in selection.fields:
        inner = field_plan.selection
        if field_plan.name == "nodes" and inner is not None:
            found.append(inner)
        elif field_plan.name == "edges" and inner is not None and is_a(inner, Edge):
            found.extend(f.selection for f in inner.fields if f.name == "node" and f.selection is not None)
        elif field_plan.name not in ("pageInfo", "totalCount", "__typename"):
            return None
    return found
