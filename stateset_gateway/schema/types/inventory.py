"""Stock locations, stock levels and reservations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.schema import relations
from stateset_gateway.schema.common import ReservationStatus
from stateset_gateway.schema.relations import relation

Product = Annotated["Product", strawberry.lazy("stateset_gateway.schema.types.catalog")]


@strawberry.type
class Location:
    id: strawberry.ID
    code: str
    name: str


@strawberry.type
class InventoryLevel:
    id: strawberry.ID
    on_hand: int
    reserved: int
    reorder_point: int
    updated_at: datetime
    version: int

    available = relations.derived(derived.available, int, reads=("on_hand", "reserved"))
    low_stock = relations.derived(derived.low_stock, bool, reads=("on_hand", "reserved", "reorder_point"))
    product = relation(Product, loader=batch.products, key="product_id", permission="products:read")
    location = relation(Location, loader=batch.locations, key="location_id")


@strawberry.type
class Reservation:
    id: strawberry.ID
    quantity: int
    status: ReservationStatus
    reference: str | None
    created_at: datetime
    order_id: strawberry.ID | None

    product = relation(Product, loader=batch.products, key="product_id", permission="products:read")
    location = relation(Location, loader=batch.locations, key="location_id")
