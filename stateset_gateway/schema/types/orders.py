"""Orders and their lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.schema import relations
from stateset_gateway.schema.common import FulfillmentStatus, OrderStatus, PaymentStatus
from stateset_gateway.schema.relations import Shape, relation
from stateset_gateway.schema.types.address import Address

Customer = Annotated["Customer", strawberry.lazy("stateset_gateway.schema.types.customers")]
Product = Annotated["Product", strawberry.lazy("stateset_gateway.schema.types.catalog")]
Return = Annotated["Return", strawberry.lazy("stateset_gateway.schema.types.fulfillment")]
Shipment = Annotated["Shipment", strawberry.lazy("stateset_gateway.schema.types.fulfillment")]
Payment = Annotated["Payment", strawberry.lazy("stateset_gateway.schema.types.payments")]


@strawberry.type
class OrderItem:
    id: strawberry.ID
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    product_id: strawberry.ID

    product = relation(Product, loader=batch.products, key="product_id", permission="products:read")


@strawberry.type
class Order:
    id: strawberry.ID
    order_number: str
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    subtotal: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    discount_total: Decimal
    total: Decimal
    notes: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    cancelled_at: datetime | None
    version: int
    customer_id: strawberry.ID

    shipping_address = relations.derived(derived.shipping_address, Address | None,
                                         reads=("shipping_address",))
    billing_address = relations.derived(derived.billing_address, Address | None, reads=("billing_address",))
    customer = relation(Customer, loader=batch.customers, key="customer_id", permission="customers:read")
    items = relation(OrderItem, loader=batch.items_by_order, key="id", shape=Shape.MANY)
    shipments = relation(Shipment, loader=batch.shipments_by_order, key="id", shape=Shape.MANY,
                         permission="shipments:read")
    returns = relation(Return, loader=batch.returns_by_order, key="id", shape=Shape.MANY,
                       permission="returns:read")
    payments = relation(Payment, loader=batch.payments_by_order, key="id", shape=Shape.MANY,
                        description="Every payment of the order, failed ones included, oldest first.")
