"""Order queries and mutations: thin, they call resolvers.orders."""

from __future__ import annotations

import strawberry

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
    @query("orders:read")
    async def order(self, info: GqlInfo, id: strawberry.ID) -> Order | None:
        return await ops.get_order(info.context.db, id)

    @query("orders:read")
    async def order_by_number(self, info: GqlInfo, order_number: str) -> Order | None:
        return await ops.get_order_by_number(info.context.db, order_number)

    @query("orders:read")
    async def orders(
        self, info: GqlInfo, filter: OrderFilter | None = None, sort: OrderSort | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Order]:
        db, filters = info.context.db, to_input(filter)
        sort = sort or OrderSort()
        page = await ops.list_orders(db, filters, sort_by=sort.field.value, sort_order=sort.direction.value,
                                     args=cursor_args(info, first, after, last, before))
        return Connection(page=page, counter=lambda: ops.count_orders(db, filters))


@strawberry.type
class OrderMutations:
    @mutation("orders:create", description="Create an order, reserving stock for every line, or fail whole.")
    async def create_order(self, info: GqlInfo, input: CreateOrderInput) -> Order:
        ctx = info.context
        currency = ctx.settings.business.default_currency
        return await ops.create_order(ctx.db, to_input(input), default_currency=currency)

    @mutation("orders:update")
    async def update_order(self, info: GqlInfo, id: strawberry.ID, input: UpdateOrderInput) -> Order:
        return await ops.update_order(info.context.db, id, to_input(input))

    @mutation("orders:update", description="Move the order along its state machine.")
    async def update_order_status(
        self, info: GqlInfo, id: strawberry.ID, status: OrderStatus, expected_version: int | None = None
    ) -> Order:
        return await ops.update_order_status(info.context.db, id, status.value, expected_version)

    @mutation("orders:cancel", description="Cancel and release the order's stock.")
    async def cancel_order(self, info: GqlInfo, id: strawberry.ID, reason: str | None = None) -> Order:
        return await ops.cancel_order(info.context.db, id, reason)

    @mutation("orders:update")
    async def add_order_item(self, info: GqlInfo, order_id: strawberry.ID, input: OrderLineInput) -> Order:
        return await ops.add_order_item(info.context.db, order_id, to_input(input))

    @mutation("orders:delete", description="Delete a pending or cancelled order.")
    async def delete_order(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_order(info.context.db, id)
        return True
