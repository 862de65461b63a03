"""The per-request GraphQL context: database, settings, the caller, and DataLoaders.

Loaders are made per request (never shared between requests, so one caller never sees another's
cache) and lazily, so a query that touches no relation builds none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from stateset_gateway.auth.principal import Principal
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers import loaders as batch


class Loaders:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _make(self, fn: Any) -> DataLoader[Any, Any]:
        return DataLoader(load_fn=partial(fn, self._db))

    @cached_property
    def customer(self) -> DataLoader[uuid.UUID, Any]:
        return self._make(batch.customers)

    @cached_property
    def product(self) -> DataLoader[uuid.UUID, Any]:
        return self._make(batch.products)

    @cached_property
    def order(self) -> DataLoader[uuid.UUID, Any]:
        return self._make(batch.orders)

    @cached_property
    def location(self) -> DataLoader[uuid.UUID, Any]:
        return self._make(batch.locations)

    @cached_property
    def items_by_order(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.items_by_order)

    @cached_property
    def levels_by_product(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.levels_by_product)

    @cached_property
    def shipments_by_order(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.shipments_by_order)

    @cached_property
    def returns_by_order(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.returns_by_order)

    @cached_property
    def items_by_return(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.items_by_return)

    @cached_property
    def addresses_by_customer(self) -> DataLoader[uuid.UUID, list[Any]]:
        return self._make(batch.addresses_by_customer)

    @cached_property
    def order_count_by_customer(self) -> DataLoader[uuid.UUID, int]:
        return self._make(batch.order_counts_by_customer)

    @cached_property
    def recent_orders_by_customer(self) -> DataLoader[tuple[uuid.UUID, int], list[Any]]:
        return self._make(batch.recent_orders_by_customer)


@dataclass
class Context:
    request: Request
    db: Database
    settings: Settings
    loaders: Loaders = field(init=False)
    principal: Principal | None = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)
