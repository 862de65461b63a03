"""Shipment and return queries and mutations: thin, they call resolvers.shipments and resolvers.returns."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import returns as return_ops
from stateset_gateway.resolvers import shipments as shipment_ops
from stateset_gateway.resolvers.payment_providers import provider_for
from stateset_gateway.schema.common import (
    Connection,
    GqlInfo,
    ReturnStatus,
    ShipmentStatus,
    cursor_args,
    mutation,
    query,
    to_input,
)
from stateset_gateway.schema.context import projection_of
from stateset_gateway.schema.inputs import CreateReturnInput, CreateShipmentInput
from stateset_gateway.schema.types.fulfillment import Return, Shipment


@strawberry.type
class FulfillmentQueries:
    @query("shipments:read", returns=Shipment | None)
    async def shipment(self, info: GqlInfo, id: strawberry.ID) -> models.Shipment:
        return await shipment_ops.get_shipment(info.context.db, id, projection_of(info))

    @query("shipments:read", returns=Shipment | None)
    async def shipment_by_tracking_number(self, info: GqlInfo, tracking_number: str) -> models.Shipment:
        return await shipment_ops.track_shipment(info.context.db, tracking_number, projection_of(info))

    @query("shipments:read", returns=Connection[Shipment])
    async def shipments(
        self, info: GqlInfo, order_id: strawberry.ID | None = None, status: ShipmentStatus | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db = info.context.db
        filters = {k: v for k, v in {"order_id": order_id, "status": status and status.value}.items() if v}
        args = cursor_args(info, first, after, last, before)
        page = await shipment_ops.list_shipments(db, filters, args=args)
        return Connection(page=page, counter=lambda: shipment_ops.count_shipments(db, filters))

    @query("returns:read", returns=Return | None, name="return")
    async def return_(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        return await return_ops.get_return(info.context.db, id, projection_of(info))

    @query("returns:read", returns=Connection[Return])
    async def returns(
        self, info: GqlInfo, order_id: strawberry.ID | None = None, status: ReturnStatus | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db = info.context.db
        filters = {k: v for k, v in {"order_id": order_id, "status": status and status.value}.items() if v}
        args = cursor_args(info, first, after, last, before)
        page = await return_ops.list_returns(db, filters, args=args, fields=projection_of(info))
        return Connection(page=page, counter=lambda: return_ops.count_returns(db, filters))


@strawberry.type
class FulfillmentMutations:
    @mutation("shipments:create", returns=Shipment)
    async def create_shipment(self, info: GqlInfo, input: CreateShipmentInput) -> models.Shipment:
        return await shipment_ops.create_shipment(info.context.db, to_input(input))

    @mutation("shipments:update", returns=Shipment,
              description="Hand the parcel to the carrier: the order ships, its stock is consumed.")
    async def mark_shipped(self, info: GqlInfo, id: strawberry.ID) -> models.Shipment:
        return await shipment_ops.mark_shipped(info.context.db, id)

    @mutation("shipments:update", returns=Shipment,
              description="The parcel arrived: the order is delivered; the return window starts.")
    async def mark_delivered(self, info: GqlInfo, id: strawberry.ID) -> models.Shipment:
        return await shipment_ops.mark_delivered(info.context.db, id)

    @mutation("returns:create", returns=Return)
    async def create_return(self, info: GqlInfo, input: CreateReturnInput) -> models.Return:
        ctx = info.context
        return await return_ops.create_return(ctx.db, to_input(input),
                                              return_window_days=ctx.settings.business.return_window_days)

    @mutation("returns:approve", returns=Return)
    async def approve_return(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        return await return_ops.approve_return(info.context.db, id)

    @mutation("returns:approve", returns=Return)
    async def reject_return(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        return await return_ops.reject_return(info.context.db, id)

    @mutation("returns:approve", returns=Return)
    async def receive_return(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        return await return_ops.receive_return(info.context.db, id)

    @mutation("returns:approve", returns=Return, description="Put the returned goods back on hand.")
    async def restock_return(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        return await return_ops.restock_return(info.context.db, id)

    @mutation("returns:approve", returns=Return,
              description="Give the return's refund amount back through the order's payment.")
    async def refund_return(self, info: GqlInfo, id: strawberry.ID) -> models.Return:
        ctx = info.context
        return await return_ops.refund_return(ctx.db, id, provider=provider_for(ctx.settings))
