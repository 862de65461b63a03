"""The per-request GraphQL context: database, settings, the caller, DataLoaders, and the memo.

Loaders are made per request (never shared between requests, so one caller never sees another's
cache) and lazily, so a query that touches no relation builds none. The memo does the same for
whole fields: within one request, a field asked again of the same parent with the same arguments
(300 aliases of `orders(first: 1) { totalCount }`) is resolved once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from graphql import GraphQLFieldResolver, GraphQLResolveInfo
from graphql.pyutils import is_awaitable

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from stateset_gateway.auth.principal import Principal
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers.loaders import Fields

BatchLoad = Callable[[Database, Sequence[Any]], Awaitable[Sequence[Any]]]
"""A batch function of resolvers/loaders.py: `(db, keys) -> one result per key, in key order`."""


class Loaders:
    """One DataLoader per batch function, found by the function itself: a relation names the batch
    function it needs (schema/relations.py), and every field naming it shares one loader and cache."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._loaders: dict[BatchLoad, DataLoader[Any, Any]] = {}

    def __getitem__(self, batch: BatchLoad) -> DataLoader[Any, Any]:
        loader = self._loaders.get(batch)
        if loader is None:
            loader = self._loaders[batch] = DataLoader(load_fn=partial(batch, self._db))
        return loader


@dataclass
class Context:
    request: Request
    db: Database
    settings: Settings
    loaders: Loaders = field(init=False)
    principal: Principal | None = None
    memo: dict[tuple[int, str, bytes, Fields], tuple[Any, Any]] = field(default_factory=dict)
    projections: dict[str, Fields] = field(default_factory=dict)
    """By response key of a root field: the attributes its rows will be read for, as the planned
    executor knows them (schema/execution/plan.py) before it calls the field's resolver."""

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


def projection_of(info: GraphQLResolveInfo) -> Fields:
    """The attributes a root field's rows will be read for, and the relations to read with them
    (resolvers/loaders.py `Fields`; None: every column). Known only to the
    planned executor; under graphql-core a resolver loads whole rows, as it always has."""
    if info.path.prev is not None:
        return None
    projections: dict[str, Fields] = info.context.projections
    return projections.get(info.path.key)  # type: ignore[arg-type]


def memoized(resolve: GraphQLFieldResolver) -> GraphQLFieldResolver:
    """`resolve`, run once per request for each parent and arguments (`Context.memo`). Only for
    fields whose answer cannot change within a request: queries' root fields and their counts. The
    parent is kept with the answer, so its identity is never reused by another object meanwhile."""

    def run(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        memo: dict[tuple[int, str, bytes, Fields], tuple[Any, Any]] = info.context.memo
        key = (id(source), info.field_name, orjson.dumps(args, option=orjson.OPT_SORT_KEYS, default=str),
               projection_of(info))  # aliases reading other columns of the same rows load their own
        hit = memo.get(key)
        if hit is None:
            answer = resolve(source, info, **args)
            hit = memo[key] = (source, asyncio.ensure_future(answer) if is_awaitable(answer) else answer)
        return hit[1]

    run.memoized = True  # type: ignore[attr-defined]
    return run
