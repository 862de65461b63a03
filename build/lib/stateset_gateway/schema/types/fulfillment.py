"""What happens to an order after it is placed: shipments and returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.schema.common import ReturnStatus, ShipmentStatus
from stateset_gateway.schema.relations import Shape, relation

Order = Annotated["Order", strawberry.lazy("stateset_gateway.schema.types.orders")]
Product = Annotated["Product", strawberry.lazy("stateset_gateway.schema.types.catalog")]


@strawberry.type
class ReturnItem:
    id: strawberry.ID
    quantity: int
    order_item_id: strawberry.ID

    product = relation(Product, loader=batch.products, key="product_id", permission="products:read")


@strawberry.type
class Return:
    id: strawberry.ID
    status: ReturnStatus
    reason: str | None
    refund_amount: Decimal
    created_at: datetime
    updated_at: datetime
    version: int
    order_id: strawberry.ID

    order = relation(Order, loader=batch.orders, key="order_id", permission="orders:read")
    items = relation(ReturnItem, loader=batch.items_by_return, key="id", shape=Shape.MANY)


@strawberry.type
class Shipment:
    id: strawberry.ID
    status: ShipmentStatus
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    order_id: strawberry.ID

    order = relation(Order, loader=batch.orders, key="order_id", permission="orders:read")
