"""Order queries and mutations: thin, they call resolvers.orders."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import orders as ops
from stateset_gateway.schema.common import (
    Connection,
    GqlInfo,
    OrderStatus,
    cursor_args,
    mutation,
    query,
    to_input,
)
from stateset_gateway.schema.context import projection_of
from stateset_gateway.schema.inputs import (
    CreateOrderInput,
    OrderFilter,
    OrderLineInput,
    OrderSort,
    UpdateOrderInput,
)
from stateset_gateway.schema.types.orders import Order


@strawberry.type
class OrderQueries:
    @query("orders:read", returns=Order | None)
    async def order(self, info: GqlInfo, id: strawberry.ID) -> models.Order:
        return await ops.get_order(info.context.db, id, projection_of(info))

    @query("orders:read", returns=Order | None)
    async def order_by_number(self, info: GqlInfo, order_number: str) -> models.Order:
        return await ops.get_order_by_number(info.context.db, order_number, projection_of(info))

    @query("orders:read", returns=Connection[Order])
    async def orders(
        self, info: GqlInfo, filter: OrderFilter | None = None, sort: OrderSort | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db, filters = info.context.db, to_input(filter)
        sort = sort or OrderSort()
        page = await ops.list_orders(db, filters, sort_by=sort.field.value, sort_order=sort.direction.value,
                                     args=cursor_args(info, first, after, last, before), fields=projection_of(info))
        return Connection(page=page, counter=lambda: ops.count_orders(db, filters))


@strawberry.type
class OrderMutations:
    @mutation("orders:create", returns=Order,
              description="Create an order, reserving stock for every line, or fail whole.")
    async def create_order(self, info: GqlInfo, input: CreateOrderInput) -> models.Order:
        ctx = info.context
        currency = ctx.settings.business.default_currency
        return await ops.create_order(ctx.db, to_input(input), default_currency=currency)

    @mutation("orders:update", returns=Order)
    async def update_order(self, info: GqlInfo, id: strawberry.ID, input: UpdateOrderInput) -> models.Order:
        return await ops.update_order(info.context.db, id, to_input(input))

    @mutation("orders:update", returns=Order, description="Move the order along its state machine.")
    async def update_order_status(
        self, info: GqlInfo, id: strawberry.ID, status: OrderStatus, expected_version: int | None = None
    ) -> models.Order:
        return await ops.update_order_status(info.context.db, id, status.value, expected_version)

    @mutation("orders:cancel", returns=Order, description="Cancel and release the order's stock.")
    async def cancel_order(self, info: GqlInfo, id: strawberry.ID, reason: str | None = None) -> models.Order:
        return await ops.cancel_order(info.context.db, id, reason)

    @mutation("orders:update", returns=Order)
    async def add_order_item(
        self, info: GqlInfo, order_id: strawberry.ID, input: OrderLineInput
    ) -> models.Order:
        return await ops.add_order_item(info.context.db, order_id, to_input(input))

    @mutation("orders:delete", description="Delete a pending or cancelled order.")
    async def delete_order(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_order(info.context.db, id)
        return True
