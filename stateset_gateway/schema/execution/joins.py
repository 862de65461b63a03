"""To-one relations read in their parent's statement (resolvers/loaders.py `Join`), decided once per plan.

A relation answering one row by its id (a `joinable` loader: an order's customer, an item's product,
a stock level's location) is otherwise one statement for its level, with its round trip and the
machinery around it. When the parents' rows come from a statement that selects what is read (a root
field's rows, a projecting loader's), that statement reads the related rows too: the relation's field
plan is then `joined`, and the run takes each parent's related row from the parent (run.py). A
statement that does not read the join (a resolver reading whole rows, a connection's later page)
leaves the attribute off its rows, and the run loads the relation as before: a join can only save a
statement, never change an answer.

One level is joined into a statement: the to-one relations of a joined row are loaded by their own.
"""

from __future__ import annotations

from stateset_gateway.resolvers.loaders import Fields, Join, joined_model, names_of
from stateset_gateway.schema.execution.tree import FieldPlan, Kind, ObjectPlan, row_selections, union_of
from stateset_gateway.schema.relations import Shape


def join_to_one(root: ObjectPlan) -> None:
    """Mark the joinable relations of every statement in the plan below `root`, top-down (a
    relation is joined into its parent's statement before its own relations are considered)."""
    stack = list(root.fields)
    while stack:
        field_plan = stack.pop()
        if field_plan.joined is None:
            _join_into(field_plan)
        if field_plan.selection is not None:
            stack.extend(field_plan.selection.fields)


def _join_into(holder: FieldPlan) -> None:
    """Join the to-one relations of the rows `holder`'s statement reads into that statement."""
    fields = _statement_fields(holder)
    if fields is None or holder.selection is None:
        return
    by_key: dict[str, list[FieldPlan]] = {}
    for selection in row_selections(holder.selection) or ():
        for child in selection.loading:
            if _joinable(child):
                assert child.relation is not None
                by_key.setdefault(child.relation.key, []).append(child)
    joins: list[Join] = []
    for key, children in by_key.items():
        loaders = {child.relation.loader for child in children if child.relation is not None}
        if len(loaders) != 1:  # two relations on one key, loaded differently: each as it is
            continue
        loader = loaders.pop()
        model = joined_model(loader)
        assert model is not None
        read = names_of(union_of(child.load[1] for child in children if child.load is not None))
        join = Join(key, model, read)
        for child in children:  # every place reading the relation reads the one joined row
            child.load, child.joined = (loader, read), join
        joins.append(join)
    if joins:
        _set_statement_fields(holder, fields.union(joins))


def _joinable(field_plan: FieldPlan) -> bool:
    relation = field_plan.relation
    return (field_plan.kind is Kind.RELATION and relation is not None and relation.shape is Shape.ONE
            and relation.reduce is None and joined_model(relation.loader) is not None
            and field_plan.load is not None and field_plan.selection is not None)


def _statement_fields(holder: FieldPlan) -> Fields:
    """What `holder`'s statement is asked to read, when it is asked (None: it reads whole rows)."""
    if holder.kind is Kind.ROOT:
        return holder.rows_read
    if holder.kind in (Kind.RELATION, Kind.PAGE) and holder.load is not None:
        return holder.load[1]
    return None


def _set_statement_fields(holder: FieldPlan, fields: frozenset[str | Join]) -> None:
    if holder.kind is Kind.ROOT:
        holder.rows_read = fields
    else:
        assert holder.load is not None
        holder.load = (holder.load[0], fields)
