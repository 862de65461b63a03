"""GraphQL object types. Resolvers return the stored rows themselves; relations go through the
request's DataLoaders, so a nested selection costs one statement per level, not one per row."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from stateset_gateway.resolvers.pagination import Page
from stateset_gateway.schema.common import (
    Connection,
    FulfillmentStatus,
    GqlInfo,
    OrderStatus,
    PaymentStatus,
    ReservationStatus,
    ReturnStatus,
    ShipmentStatus,
)
from stateset_gateway.schema.permissions import relation_requires

Parent = strawberry.Parent


@strawberry.type
class Address:
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str


def _address(value: dict[str, Any] | None) -> Address | None:
    if not value:
        return None
    return Address(**{k: value.get(k) for k in ("line1", "line2", "city", "region", "postal_code", "country")})


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

    @strawberry.field
    def full_name(self, root: Parent[Any]) -> str:
        return f"{root.first_name} {root.last_name}"

    @strawberry.field
    async def addresses(self, root: Parent[Any], info: GqlInfo) -> list[CustomerAddress]:
        return await info.context.loaders.addresses_by_customer.load(root.id)

    @strawberry.field(extensions=relation_requires("orders:read"))
    async def order_count(self, root: Parent[Any], info: GqlInfo) -> int | None:
        return await info.context.loaders.order_count_by_customer.load(root.id)

    @strawberry.field(extensions=relation_requires("orders:read"), description="The customer's orders, newest first.")
    async def orders(
        self, root: Parent[Any], info: GqlInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Order] | None:
        from stateset_gateway.resolvers import orders as ops
        from stateset_gateway.schema.common import cursor_args

        ctx = info.context
        if after is None:  # the first page of many customers at once: one windowed query
            size = first if first is not None else ctx.settings.graphql.default_page_size
            if not 0 <= size <= ctx.settings.graphql.max_page_size:
                from stateset_gateway import errors

                raise errors.ValidationFailed.field("first", f"Must be between 0 and {ctx.settings.graphql.max_page_size}")
            rows = await ctx.loaders.recent_orders_by_customer.load((root.id, size))
            from stateset_gateway.resolvers.pagination import encode_cursor

            page = Page(items=rows[:size], cursors=[encode_cursor(o.created_at, o.id) for o in rows[:size]],
                        has_next_page=len(rows) > size, has_previous_page=False)
        else:
            page = await ops.list_orders(ctx.db, {"customer_id": root.id}, args=cursor_args(info, first, after, None, None))

        async def counter() -> int:
            return await ctx.loaders.order_count_by_customer.load(root.id)

        return Connection(page=page, counter=counter)


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

    @strawberry.field
    def available(self, root: Parent[Any]) -> int:
        return root.on_hand - root.reserved

    @strawberry.field
    def low_stock(self, root: Parent[Any]) -> bool:
        return root.on_hand - root.reserved <= root.reorder_point

    @strawberry.field(extensions=relation_requires("products:read"))
    async def product(self, root: Parent[Any], info: GqlInfo) -> Product | None:
        return await info.context.loaders.product.load(root.product_id)

    @strawberry.field
    async def location(self, root: Parent[Any], info: GqlInfo) -> Location:
        return await info.context.loaders.location.load(root.location_id)


@strawberry.type
class Reservation:
    id: strawberry.ID
    quantity: int
    status: ReservationStatus
    reference: str | None
    created_at: datetime

    @strawberry.field
    def order_id(self, root: Parent[Any]) -> strawberry.ID | None:
        return root.order_id

    @strawberry.field(extensions=relation_requires("products:read"))
    async def product(self, root: Parent[Any], info: GqlInfo) -> Product | None:
        return await info.context.loaders.product.load(root.product_id)

    @strawberry.field
    async def location(self, root: Parent[Any], info: GqlInfo) -> Location:
        return await info.context.loaders.location.load(root.location_id)


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

    @strawberry.field(extensions=relation_requires("inventory:read"))
    async def inventory_levels(self, root: Parent[Any], info: GqlInfo) -> list[InventoryLevel] | None:
        return await info.context.loaders.levels_by_product.load(root.id)

    @strawberry.field(extensions=relation_requires("inventory:read"))
    async def total_available(self, root: Parent[Any], info: GqlInfo) -> int | None:
        levels = await info.context.loaders.levels_by_product.load(root.id)
        return sum(level.on_hand - level.reserved for level in levels)


@strawberry.type
class OrderItem:
    id: strawberry.ID
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal

    @strawberry.field
    def product_id(self, root: Parent[Any]) -> strawberry.ID:
        return root.product_id

    @strawberry.field(extensions=relation_requires("products:read"))
    async def product(self, root: Parent[Any], info: GqlInfo) -> Product | None:
        return await info.context.loaders.product.load(root.product_id)


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

    @strawberry.field
    def customer_id(self, root: Parent[Any]) -> strawberry.ID:
        return root.customer_id

    @strawberry.field
    def shipping_address(self, root: Parent[Any]) -> Address | None:
        return _address(root.shipping_address)

    @strawberry.field
    def billing_address(self, root: Parent[Any]) -> Address | None:
        return _address(root.billing_address)

    @strawberry.field(extensions=relation_requires("customers:read"))
    async def customer(self, root: Parent[Any], info: GqlInfo) -> Customer | None:
        return await info.context.loaders.customer.load(root.customer_id)

    @strawberry.field
    async def items(self, root: Parent[Any], info: GqlInfo) -> list[OrderItem]:
        return await info.context.loaders.items_by_order.load(root.id)

    @strawberry.field(extensions=relation_requires("shipments:read"))
    async def shipments(self, root: Parent[Any], info: GqlInfo) -> list[Shipment] | None:
        return await info.context.loaders.shipments_by_order.load(root.id)

    @strawberry.field(extensions=relation_requires("returns:read"))
    async def returns(self, root: Parent[Any], info: GqlInfo) -> list[Return] | None:
        return await info.context.loaders.returns_by_order.load(root.id)


@strawberry.type
class ReturnItem:
    id: strawberry.ID
    quantity: int

    @strawberry.field
    def order_item_id(self, root: Parent[Any]) -> strawberry.ID:
        return root.order_item_id

    @strawberry.field(extensions=relation_requires("products:read"))
    async def product(self, root: Parent[Any], info: GqlInfo) -> Product | None:
        return await info.context.loaders.product.load(root.product_id)


@strawberry.type
class Return:
    id: strawberry.ID
    status: ReturnStatus
    reason: str | None
    refund_amount: Decimal
    created_at: datetime
    updated_at: datetime
    version: int

    @strawberry.field
    def order_id(self, root: Parent[Any]) -> strawberry.ID:
        return root.order_id

    @strawberry.field(extensions=relation_requires("orders:read"))
    async def order(self, root: Parent[Any], info: GqlInfo) -> Order | None:
        return await info.context.loaders.order.load(root.order_id)

    @strawberry.field
    async def items(self, root: Parent[Any], info: GqlInfo) -> list[ReturnItem]:
        return await info.context.loaders.items_by_return.load(root.id)


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

    @strawberry.field
    def order_id(self, root: Parent[Any]) -> strawberry.ID:
        return root.order_id

    @strawberry.field(extensions=relation_requires("orders:read"))
    async def order(self, root: Parent[Any], info: GqlInfo) -> Order | None:
        return await info.context.loaders.order.load(root.order_id)


