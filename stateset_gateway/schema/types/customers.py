"""Customers and their saved addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.resolvers.orders import customer_orders_page
from stateset_gateway.schema import relations
from stateset_gateway.schema.relations import Shape, connection, relation
from stateset_gateway.schema.types.address import Address

Order = Annotated["Order", strawberry.lazy("stateset_gateway.schema.types.orders")]


@strawberry.type
class CustomerAddress(Address):
    id: strawberry.ID
    kind: str
    is_default: bool


@strawberry.type
class Customer:
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    phone: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    full_name = relations.derived(derived.full_name, str, reads=("first_name", "last_name"))
    addresses = relation(CustomerAddress, loader=batch.addresses_by_customer, key="id", shape=Shape.MANY)
    order_count = relation(int, loader=batch.order_counts_by_customer, key="id", shape=Shape.SCALAR,
                           permission="orders:read")
    orders = connection(Order, loader=batch.recent_orders_by_customer, key="id", page=customer_orders_page,
                        count=batch.order_counts_by_customer, permission="orders:read",
                        description="The customer's orders, newest first.")
