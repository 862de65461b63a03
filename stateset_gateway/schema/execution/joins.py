"""Relations read in their parent's statement (resolvers/loaders.py `Join`), decided once per plan.

A relation answering one row by its id (a `joinable` loader: an order's customer, an item's product,
a stock level's location), or on PostgreSQL, below a field answering one row, a list of rows
grouped by the parent's id (a `grouped` loader: an order's items, a product's stock levels; see
`_joinable`), is otherwise one statement for its level, with its round trip and the machinery
around it. When the parents' rows come from a statement that selects what is read (a root field's
rows, a projecting loader's), that statement reads the related rows too: the relation's field plan
is then `joined`, and the run takes each parent's related rows from the parent (run.py). A
statement that does not read the join (a resolver reading whole rows, a connection's later page)
leaves the attribute off its rows, and the run loads the relation as before: a join can only save
a statement, never change an answer.

Joins are decided bottom-up, so a relation joined into its parent carries its own joins: on
PostgreSQL `order(id)`'s items are read with their products and those products' stock levels, in the
order's statement (a to-one join's own joins are read only inside a to-many one; elsewhere they are
loaded with the to-one row's own statement, when there is one).
"""

from __future__ import annotations

from collections import Counter

from stateset_gateway.resolvers.loaders import Fields, Join, grouping_of, joined_model
from stateset_gateway.schema.execution.tree import FieldPlan, Kind, ObjectPlan, row_selections, union_of
from stateset_gateway.schema.relations import Shape


NESTED_LEVELS = 8
"""At most this many levels of related rows inside a get's statement (each a subquery in the one
below it): deeper, SQLAlchemy's compiler recurses past Python's limit (`max_depth` may be raised
to 100); the levels below are loaded by statements of their own."""


def join_relations(root: ObjectPlan, *, lists: bool = True) -> None:
    """Mark the joinable relations of every statement in the plan below `root`; to-many ones only
    when `lists` (the database has arrays: PostgreSQL). A join no statement would read still
    changes what its relation's loads are keyed by, so loads that could share a batch would not."""
    for field_plan in root.fields:
        _visit(field_plan, lists and _reads_one_row(field_plan), 0)


def _reads_one_row(field_plan: FieldPlan) -> bool:
    """Whether a root field answers one row (a get: `order(id)`), not a list or a page."""
    return field_plan.kind is Kind.ROOT and field_plan.list_depth == 0 and (
        field_plan.selection is not None and row_selections(field_plan.selection) == [field_plan.selection])


def _visit(holder: FieldPlan, one: bool, level: int) -> None:
    """Its relations' own joins first, then its statement's (the depth is the document's, which the
    depth limit bounds). `one`: `holder`'s rows are one row's, or inside one row's (see `_joinable`),
    `level` levels below it."""
    one = one and level < NESTED_LEVELS
    if holder.selection is not None:
        for child in holder.selection.fields:
            joined = one and _joinable(child, True)
            _visit(child, joined, level + 1 if joined else 0)
    _join_into(holder, one)


def _join_into(holder: FieldPlan, one: bool) -> None:
    """Join the relations of the rows `holder`'s statement reads into that statement."""
    fields = _statement_fields(holder)
    if fields is None or holder.selection is None:
        return
    by_relation: dict[tuple[str, object], list[FieldPlan]] = {}
    for selection in row_selections(holder.selection) or ():
        for child in selection.loading:
            if _joinable(child, one):
                assert child.relation is not None
                by_relation.setdefault((child.relation.key, child.relation.loader), []).append(child)
    to_one_keys = Counter(key for key, loader in by_relation if grouping_of(loader) is None)  # type: ignore[arg-type]
    joins: list[Join] = []
    for (key, loader), children in by_relation.items():
        grouping = grouping_of(loader)  # type: ignore[arg-type]
        if grouping is None and to_one_keys[key] > 1:  # two relations on one key, loaded differently
            continue
        model = joined_model(loader) if grouping is None else grouping.column.class_  # type: ignore[arg-type]
        assert model is not None
        read = union_of(child.load[1] for child in children if child.load is not None)
        join = Join(key, model, read, grouping)
        for child in children:  # every place reading the relation reads the one joined row
            child.load, child.joined = (loader, read), join  # type: ignore[assignment]
        joins.append(join)
    if joins:
        _set_statement_fields(holder, union_of((fields, frozenset(joins))))


def _joinable(field_plan: FieldPlan, one: bool) -> bool:
    """A to-one relation always; a to-many one only into a statement answering one row, or rows
    inside one row's (an order's items, their products' stock levels). Read into a page's
    statement, each parent's related rows would be decoded and made records once per parent that
    holds them (an item's product, with its stock levels, once per item): for a nested page of 50
    orders that cost a fifth more instructions than the two statements it saved
    (`python -m bench.instructions`), while `order(id)` cost a fifth fewer."""
    relation = field_plan.relation
    if (field_plan.kind is not Kind.RELATION or relation is None or relation.reduce is not None
            or field_plan.load is None or field_plan.selection is None):
        return False
    if relation.shape is Shape.ONE:
        return joined_model(relation.loader) is not None
    return one and relation.shape is Shape.MANY and grouping_of(relation.loader) is not None


def _statement_fields(holder: FieldPlan) -> Fields:
    """What `holder`'s statement is asked to read, when it is asked (None: it reads whole rows)."""
    if holder.kind is Kind.ROOT:
        return holder.rows_read
    if holder.kind in (Kind.RELATION, Kind.PAGE) and holder.load is not None:
        return holder.load[1]
    return None


def _set_statement_fields(holder: FieldPlan, fields: Fields) -> None:
    if holder.kind is Kind.ROOT:
        holder.rows_read = fields
    else:
        assert holder.load is not None
        holder.load = (holder.load[0], fields)
