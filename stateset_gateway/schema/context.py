"""The per-request GraphQL context: database, settings, the caller, and DataLoaders.

Loaders are made per request (never shared between requests, so one caller never sees another's
cache) and lazily, so a query that touches no relation builds none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from stateset_gateway.auth.principal import Principal
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database

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

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)
