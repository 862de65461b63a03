"""Products of the catalogue, with their stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.schema.relations import Shape, relation

InventoryLevel = Annotated["InventoryLevel", strawberry.lazy("stateset_gateway.schema.types.inventory")]


@strawberry.type
class Product:
    id: strawberry.ID
    sku: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    inventory_levels = relation(InventoryLevel, loader=batch.levels_by_product, key="id", shape=Shape.MANY,
                                permission="inventory:read")
    total_available = relation(int, loader=batch.levels_by_product, key="id", shape=Shape.SCALAR,
                               permission="inventory:read", reduce=derived.total_available)
