"""Executing a plan: the root fields through their resolvers, then every level below in two phases.

Load: walk the plan level by level; each relation at a level is one call of its batch function for
the keys of every parent at that level (deduplicated, and minus keys this request already loaded,
as a per-request DataLoader would skip them), unless its rows were read with the parents' (a
joined to-one relation, joins.py); sibling loads run concurrently. A relation's
permission is decided once per request against the caller the root field authenticated.

Build: each selection's functions (made with the plan) turn rows into dicts: the fast one first;
if anything fails, the careful one, which locates, keeps and propagates errors as graphql-core does:
an error on a nullable field nulls it; on a non-null one it nulls the nearest nullable parent, and
errors later raised below a nulled position are dropped.
"""

from __future__ import annotations

import asyncio
import inspect
import operator
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    default_field_resolver,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path
from graphql.pyutils import is_awaitable as default_is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers

from stateset_gateway.errors import DomainError
from stateset_gateway.http.authentication import authorize
from stateset_gateway.resolvers.loaders import Fields, joins_of, names_of
from stateset_gateway.schema.common import Connection, page_limits
from stateset_gateway.schema.context import Context
from stateset_gateway.caches import SizedLRU
from stateset_gateway.schema.execution.plan import ParsedDocument, PlanCache
from stateset_gateway.schema.execution.roots import RootCall, root_calls
from stateset_gateway.schema.execution.tree import NOT_READ, FieldPlan, Kind, Load, ObjectPlan, Plan


class _Failure:
    """What a load or resolver raised, kept in place of its value: raised again where it is read."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


Frontier = list[tuple[ObjectPlan, list[Any]]]

MAX_COERCION_ERRORS = 50  # graphql-core's default


async def _gather(values: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*values))


def _track(_values: Sequence[Any]) -> None:
    raise NotImplementedError("a root resolver must await the work it starts: nothing settles it later")


ASYNC_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=_track)
"""What a root resolver's info offers for its own concurrent work (no resolver here uses it)."""


class PlannedExecutor:
    """Runs an operation from its plan; answers None when it has none (the caller uses graphql-core)."""

    def __init__(self, schema: GraphQLSchema, plans: SizedLRU[Any, Any], *, nested_lists: bool = True) -> None:
        self.schema = schema
        self.plans = PlanCache(plans, nested_lists=nested_lists)
        self.calls = root_calls(schema)

    async def execute(self, document: DocumentNode, context: Context, variables: dict[str, Any] | None,
                      operation_name: str | None) -> ExecutionResult | None:
        parsed = self.plans.document(document)
        operation = parsed.operations.get(operation_name) if parsed is not None else None
        if parsed is None or operation is None:  # graphql-core reports an unknown or ambiguous operation
            return None
        values = get_variable_values(self.schema, operation.variable_definitions or (), variables or {},
                                     max_errors=MAX_COERCION_ERRORS)
        if isinstance(values, list):  # variables that do not coerce: graphql-core's errors, no data
            return ExecutionResult(None, values)
        plan = self.plans.plan(self.schema, parsed, operation, values)
        if plan is None:
            return None
        run = Run(Operation(self.schema, parsed, operation, values, context, self.calls), plan)
        if plan.serial or not plan.calls_resolvers:  # a mutation's selections read what it wrote: each read
            return await run.execute()  # on a connection of its own; `{ __typename }` reads nothing
        async with context.db.request_reads():  # a query's reads: one connection for the whole request
            return await run.execute()


@dataclass(frozen=True, slots=True)
class Operation:
    """One request's operation: what graphql-core's Executor.build gathers, without an executor
    (whose helpers refer back to it: a reference cycle per request for the collector to find)."""

    schema: GraphQLSchema
    parsed: ParsedDocument
    definition: OperationDefinitionNode
    variables: VariableValues
    context: Context
    calls: dict[tuple[str, str], RootCall]  # roots.py: root fields called without Strawberry's wrapper

    def info(self, field_plan: FieldPlan) -> GraphQLResolveInfo:
        """graphql-core's resolve info for a root field."""
        path = Path(None, field_plan.key, field_plan.parent.name)
        return GraphQLResolveInfo(field_plan.name, field_plan.nodes, field_plan.definition.type,
                                  field_plan.parent, path, self.schema, self.parsed.fragment_definitions,
                                  None, self.definition, self.variables, self.context, default_is_awaitable,
                                  None, ASYNC_HELPERS)

    def arguments(self, field_plan: FieldPlan) -> dict[str, Any]:
        details, definition = field_plan.details[0], field_plan.definition
        if not definition.args and not details.node.arguments:
            return {}
        return get_argument_values(definition, details.node, self.variables, details.fragment_variable_values)


class Run:
    """The state of one request's execution of a plan."""

    def __init__(self, operation: Operation, plan: Plan) -> None:
        self.operation = operation
        self.plan = plan
        self.context = operation.context
        self.errors: list[GraphQLError] = []
        self._positions: set[Path | None] = set()
        self._resolved: dict[FieldPlan, Any] = {}
        self._values: dict[Load, dict[Any, Any]] = {}
        self._pages: dict[FieldPlan, dict[Any, Any]] = {}
        self._failed: dict[FieldPlan, Exception] = {}
        self._totals: dict[int, Any] = {}
        self._counted: dict[int, tuple[Load, Any]] = {}
        self._refusals: dict[str, Exception | None] = {}
        self.unjoined: set[FieldPlan] = set()
        self._raised: list[BaseException] = []  # every exception kept as a value (_failure)

    async def execute(self) -> ExecutionResult:
        try:
            return await self._execute()
        finally:
            _release_frames([*self._raised, *self.errors])

    def _failure(self, exc: Exception) -> _Failure:
        self._raised.append(exc)
        return _Failure(exc)

    async def _execute(self) -> ExecutionResult:
        root = self.plan.root
        if self.plan.serial:
            data: dict[str, Any] | None = {}
            for field_plan in root.fields:  # mutations: one after the other, each completed first
                if field_plan.kind is Kind.ROOT:
                    await self._resolve(field_plan)
                    await self._load(self._frontier([field_plan]))
                try:
                    value = self._emit(field_plan)
                except GraphQLError as error:
                    self.add(error, None)
                    data = None
                    break
                data[field_plan.key] = value
        else:
            roots = [f for f in root.fields if f.kind is Kind.ROOT]
            if not await self._resolve_concurrently(roots):
                return ExecutionResult(None, self.errors)
            await self._load(self._frontier(roots))
            try:
                data = root.fast(None, self)
            except Exception:  # noqa: BLE001 - something to report: built again the careful way
                data = self._build_carefully(root)
        return ExecutionResult(data, self.errors or None)

    def _build_carefully(self, root: ObjectPlan) -> dict[str, Any] | None:
        try:
            return root.build(None, None, self)  # type: ignore[arg-type]
        except GraphQLError as error:
            self.add(error, None)
            return None

    def _emit(self, field_plan: FieldPlan) -> Any:
        try:
            return field_plan.emit(None, None, self)
        except Exception as exc:  # noqa: BLE001 - a field error
            return self.field_error(exc, None, field_plan.key, field_plan.nodes, field_plan.non_null)

    # --- errors, as graphql-core's handle_field_error and CollectedErrors keep them

    def field_error(self, exc: Exception, path: Path | None, key: str | int, nodes: list[FieldNode],
                    non_null: bool) -> None:
        position = Path(path, key, None)
        error = located_error(exc, nodes, position.as_list())
        if non_null:
            raise error
        self.add(error, position)
        return None

    def add(self, error: GraphQLError, position: Path | None) -> None:
        positions = self._positions
        if None in positions:
            return
        ancestor = position
        while ancestor is not None:
            if ancestor in positions:
                return
            ancestor = ancestor.prev
        positions.add(position)
        self.errors.append(error)

    # --- values, read by the plan's build functions

    def resolved(self, field_plan: FieldPlan) -> Any:
        return _unless_failed(self._resolved[field_plan])

    def loaded(self, field_plan: FieldPlan, key: Any) -> Any:
        failure = self._failed.get(field_plan)
        if failure is not None:
            raise failure
        if field_plan.kind is Kind.PAGE:
            return _unless_failed(self._pages[field_plan][key])
        assert field_plan.load is not None
        return _unless_failed(self._values[field_plan.load][key])

    def total(self, connection: Connection[Any]) -> Any:
        counted = self._counted.get(id(connection))
        if counted is None:
            return _unless_failed(self._totals[id(connection)])
        load, key = counted
        return _unless_failed(self._values[load][key])

    # --- the root fields

    async def _resolve(self, field_plan: FieldPlan) -> None:
        """A root field through its own resolver (Strawberry's, with its permission extension). A
        query whose rows were read with their relations' (joins.py) and failed is read once more
        without them (`_joins_may_have_failed`)."""
        read = field_plan.rows_read
        result = await self._call_root(field_plan, read)
        if type(result) is _Failure and not self.plan.serial and _joins_may_have_failed(result.error, read):
            result = await self._call_root(field_plan, names_of(read))
        self._resolved[field_plan] = result

    async def _call_root(self, field_plan: FieldPlan, read: Fields) -> Any:
        operation = self.operation
        if read is not None:
            self.context.projections[field_plan.key] = read
        try:
            resolve = (operation.calls.get((field_plan.parent.name, field_plan.name)) or field_plan.definition.resolve
                       or default_field_resolver)
            result = resolve(None, operation.info(field_plan), **operation.arguments(field_plan))
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - the field's error, reported where it is emitted
            return self._failure(exc)
        return result

    async def _resolve_concurrently(self, roots: list[FieldPlan]) -> bool:
        """Resolve the root fields together and report their errors in the order they finish, as
        graphql-core does: the first non-null field to fail nulls `data` (False), and errors that
        would finish after it are not reported."""
        finished: list[FieldPlan] = []

        async def resolve(field_plan: FieldPlan) -> None:
            await self._resolve(field_plan)
            finished.append(field_plan)

        await _all([resolve(f) for f in roots])
        for field_plan in finished:
            failure = self._resolved[field_plan]
            if type(failure) is not _Failure:
                continue
            error = located_error(failure.error, field_plan.nodes, [field_plan.key])
            if field_plan.non_null:
                self.add(error, None)
                return False
            self.add(error, Path(None, field_plan.key, None))
            self._resolved[field_plan] = None  # reported: the field is null
        return True

    def _frontier(self, roots: list[FieldPlan]) -> Frontier:
        frontier = []
        for field_plan in roots:
            value = self._resolved.get(field_plan)
            selection = field_plan.selection
            if selection is not None and selection.loads and type(value) is not _Failure:
                frontier.append((selection, _flatten([value], field_plan.list_depth)))
        return frontier

    # --- the load phase

    async def _load(self, frontier: Frontier) -> None:
        while frontier:
            pending: list[tuple[FieldPlan, list[Any]]] = []
            stack = list(frontier)
            while stack:  # plain values (derived objects, a connection's nodes) stay on this level
                plan, rows = stack.pop()
                if not rows:
                    continue
                pending.extend((field_plan, rows) for field_plan in plan.loading)
                for field_plan in plan.expand:
                    assert field_plan.selection is not None
                    stack.append((field_plan.selection, _values_of(field_plan, rows)))
            frontier = await self._load_level(pending)

    async def _load_level(self, pending: list[tuple[FieldPlan, list[Any]]]) -> Frontier:
        wanted: dict[Load, dict[Any, None]] = {}
        jobs: list[Awaitable[None]] = []
        paging: list[tuple[FieldPlan, list[Any], int | None, str | None]] = []
        followed: list[tuple[FieldPlan, dict[Any, None]]] = []
        counting: set[int] = set()  # a connection asked for by several aliases is counted once
        for field_plan, rows in pending:
            if field_plan.kind is Kind.TOTAL:
                for connection in rows:
                    counted = self._counted.get(id(connection))
                    if counted is not None:
                        self._want(wanted, *counted)
                    elif id(connection) not in counting and id(connection) not in self._totals:
                        counting.add(id(connection))
                        jobs.append(self._count(connection))
                continue
            relation, load = field_plan.relation, field_plan.load
            assert relation is not None and load is not None
            refusal = await self._refusal(relation.permission)
            if refusal is not None:
                self._failed[field_plan] = refusal
                self.unjoined.add(field_plan)
                continue
            key_of = operator.attrgetter(relation.key)
            if field_plan.joined is not None:
                keys = self._take_joined(wanted, field_plan, rows, key_of)
                followed.append((field_plan, keys))
                continue
            keys = dict.fromkeys(key_of(row) for row in rows)
            if field_plan.kind is Kind.PAGE:
                try:
                    args = self.operation.arguments(field_plan)
                except Exception as exc:  # noqa: BLE001 - reported at every path of the field
                    self._failed[field_plan] = self._failure(exc).error
                    continue
                first, after = args.get("first"), args.get("after")
                size = self._first_page_size(first, after)
                if size is not None:  # every parent's first page: keys of this level's batch
                    for key in keys:
                        self._want(wanted, load, (key, size))
                paging.append((field_plan, list(keys), first, after))
            else:
                for key in keys:
                    self._want(wanted, load, key)
            followed.append((field_plan, keys))
        jobs.extend(self._batch(loader, list(keys)) for loader, keys in wanted.items() if keys)
        await _all(jobs)
        for page in paging:
            await self._page(*page)
        return self._next_frontier(followed)

    def _want(self, wanted: dict[Load, dict[Any, None]], load: Load, key: Any) -> None:
        if key not in self._values.setdefault(load, {}):
            wanted.setdefault(load, {})[key] = None

    def _take_joined(self, wanted: dict[Load, dict[Any, None]], field_plan: FieldPlan, rows: list[Any],
                     key_of: Callable[[Any], Any]) -> dict[Any, None]:
        """A joined relation's rows, read with their parents' (joins.py): each parent holds its own.
        A parent whose statement did not read the join has no such attribute; its key is loaded.
        Answers the parents' keys, as the level's other relations collect theirs. Where a key's
        value is already another (loaded before, or failed), `loaded` answers that one, so the
        field is `unjoined`: the fast build then reads it as `loaded` does."""
        assert field_plan.load is not None and field_plan.joined is not None
        load, attribute = field_plan.load, field_plan.joined.attribute
        values = self._values.setdefault(load, {})
        keys: dict[Any, None] = {}
        for row in rows:
            key = key_of(row)
            keys[key] = None
            related = getattr(row, attribute, NOT_READ)
            if related is NOT_READ:
                self._want(wanted, load, key)
            elif key not in values:
                values[key] = related
            elif values[key] != related:
                self.unjoined.add(field_plan)
        return keys

    def _next_frontier(self, followed: list[tuple[FieldPlan, dict[Any, None]]]) -> Frontier:
        frontier: Frontier = []
        for field_plan, keys in followed:
            selection = field_plan.selection
            if selection is None or not selection.loads:
                continue
            assert field_plan.load is not None
            found = (self._pages[field_plan] if field_plan.kind is Kind.PAGE
                     else self._values[field_plan.load])
            values = [value for value in (found[key] for key in keys) if type(value) is not _Failure]
            depth = 0 if field_plan.kind is Kind.PAGE else field_plan.list_depth
            frontier.append((selection, _flatten(values, depth)))
        return frontier

    async def _refusal(self, permission: str | None) -> Exception | None:
        """Why the caller may not read a relation needing `permission` (None: it may), as
        RelationPermission decides it, once per request."""
        if permission is None:
            return None
        if permission in self._refusals:
            return self._refusals[permission]
        refusal: Exception | None = None
        try:
            if self.context.principal is None:
                self.context.principal = await authorize(self.context.request, None)
            self.context.principal.require(permission)
        except Exception as exc:  # noqa: BLE001 - the field's error, at each of its paths
            refusal = self._failure(exc).error
        self._refusals[permission] = refusal
        return refusal

    async def _batch(self, load: Load, keys: list[Any]) -> None:
        loader, fields = load
        values = await self._fetch(loader, keys, fields)
        if type(values) is _Failure and _joins_may_have_failed(values.error, fields):
            values = await self._fetch(loader, keys, names_of(fields))
        if type(values) is _Failure:  # every key of the batch fails with it, as with a DataLoader
            values = [values] * len(keys)
        self._values[load].update(zip(keys, values, strict=True))

    async def _fetch(self, loader: Any, keys: list[Any], fields: Fields) -> Iterable[Any] | _Failure:
        try:
            return await (loader(self.context.db, keys) if fields is None
                          else loader(self.context.db, keys, fields))  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - kept, raised again where it is read
            return self._failure(exc)

    async def _count(self, connection: Connection[Any]) -> None:
        try:
            total = len(connection.page.items) if connection.counter is None else await connection.counter()
        except Exception as exc:  # noqa: BLE001 - reported at the totalCount path
            total = self._failure(exc)
        self._totals[id(connection)] = total

    def _first_page_size(self, first: int | None, after: str | None) -> int | None:
        """The size of the first pages a connection's arguments ask for, when they can be batched:
        `(key, size)` is then each parent's key of the relation's loader (see Relation)."""
        if after is not None:
            return None
        limits = page_limits(self.context.settings)
        size = first if first is not None else limits.default_size
        return size if 0 <= size <= limits.max_size else None  # else the page rule reports it

    async def _page(self, field_plan: FieldPlan, keys: list[Any], first: int | None,
                    after: str | None) -> None:
        """Each parent's page of a connection, by the relation's page rule. Its first pages were
        loaded with the level's batches (`_load_level`), so the rule finds them without a query or a
        future of its own; a later page (`after`) is a query per parent, on the request's connection."""
        relation, context = field_plan.relation, self.context
        assert relation is not None and relation.page is not None and relation.count is not None
        limits = page_limits(context.settings)
        assert field_plan.load is not None
        load = field_plan.load
        values = self._values.setdefault(load, {})

        async def load_first_page(page_key: Any) -> Any:
            if page_key not in values:
                await self._batch(load, [page_key])
            return _unless_failed(values[page_key])

        pages: dict[Any, Any] = {}
        for key in keys:  # no I/O for a batched first page: one after the other, no task per parent
            try:
                page = await relation.page(context.db, key, first, after, limits=limits,
                                           load_first_page=load_first_page)
            except Exception as exc:  # noqa: BLE001 - this parent's error
                pages[key] = self._failure(exc)
                continue
            connection = Connection(page=page, counter=None)
            self._counted[id(connection)] = ((relation.count, None), key)
            pages[key] = connection
        self._pages[field_plan] = pages


def _joins_may_have_failed(error: Exception, fields: Fields) -> bool:
    """Whether rows read with their relations' (`fields` names joins) failed in a way the relations
    may have caused (not a domain error: a missing row, a bad argument): a related row the driver
    cannot decode, a table the database role may not read, a statement too deep to compile. Read
    without the joins, the rows are then answered, and each relation fails, if it does, when it is
    loaded on its own, at its own paths, as graphql-core reports it."""
    return bool(joins_of(fields)) and not isinstance(error, DomainError)


def _release_frames(errors: Iterable[BaseException]) -> None:
    """Clear the locals of the frames in the tracebacks of `errors` and of what caused them, once
    the request is done with them. A kept error's traceback holds the frames it passed through, and
    they hold the run (its loaded rows, the request) in a cycle only the collector would free. The
    tracebacks themselves stay whole, for the log of an unexpected error."""
    seen: set[int] = set()
    stack: list[BaseException | None] = list(errors)
    while stack:
        error = stack.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)  # a frame still running is left as it is
        stack.extend((error.__cause__, error.__context__, getattr(error, "original_error", None)))


def _unless_failed(value: Any) -> Any:
    if type(value) is _Failure:
        raise value.error
    return value


async def _all(jobs: list[Awaitable[None]]) -> None:
    if len(jobs) == 1:
        await jobs[0]
    elif jobs:
        await asyncio.gather(*jobs)


def _values_of(field_plan: FieldPlan, rows: list[Any]) -> list[Any]:
    """A plain field's values for every parent, for the loads below it (an error is left to the build
    phase, which reports it where it occurs)."""
    get = field_plan.get
    assert get is not None
    values = []
    for row in rows:
        try:
            values.append(get(row))
        except Exception:  # noqa: BLE001, S112 - reported by the build phase
            continue
    return _flatten(values, field_plan.list_depth)


def _flatten(values: list[Any], depth: int) -> list[Any]:
    """The objects inside `values` (each a value of a field `depth` lists deep), without nulls."""
    for _ in range(depth):
        values = [item for value in values if value is not None for item in value]
    return [value for value in values if value is not None]
