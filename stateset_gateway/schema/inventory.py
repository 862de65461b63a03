"""Inventory queries and mutations: thin, they call resolvers.inventory."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import inventory as ops
from stateset_gateway.schema.common import Connection, GqlInfo, cursor_args, mutation, query, to_input
from stateset_gateway.schema.context import projection_of
from stateset_gateway.schema.inputs import AdjustInventoryInput, CreateLocationInput, ReserveInventoryInput
from stateset_gateway.schema.types.inventory import InventoryLevel, Location, Reservation


@strawberry.type
class InventoryQueries:
    @query("inventory:read", returns=Connection[InventoryLevel],
           description="Stock levels per product and location.")
    async def inventory(
        self, info: GqlInfo, product_id: strawberry.ID | None = None, location_id: strawberry.ID | None = None,
        low_stock: bool | None = None, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db = info.context.db
        filters = {k: v for k, v in {"product_id": product_id, "location_id": location_id,
                                     "low_stock": low_stock}.items() if v is not None}
        page = await ops.list_levels(db, filters, args=cursor_args(info, first, after, last, before),
                                     fields=projection_of(info))
        return Connection(page=page, counter=lambda: ops.count_levels(db, filters))

    @query("inventory:read", returns=list[Location])
    async def locations(self, info: GqlInfo) -> list[models.InventoryLocation]:
        return await ops.list_locations(info.context.db)

    @query("inventory:read", returns=Connection[Reservation])
    async def reservations(
        self, info: GqlInfo, product_id: strawberry.ID | None = None, order_id: strawberry.ID | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[Any]:
        page = await ops.list_reservations(info.context.db, product_id=product_id, order_id=order_id,
                                           args=cursor_args(info, first, after, None, None))
        return Connection(page=page, counter=None)


@strawberry.type
class InventoryMutations:
    @mutation("inventory:adjust", returns=InventoryLevel,
              description="Receive (positive delta) or write off (negative) stock.")
    async def adjust_inventory(self, info: GqlInfo, input: AdjustInventoryInput) -> models.InventoryBalance:
        return await ops.adjust_inventory(info.context.db, to_input(input))

    @mutation("inventory:adjust", returns=Reservation, description="Hold stock outside an order.")
    async def reserve_inventory(
        self, info: GqlInfo, input: ReserveInventoryInput
    ) -> models.InventoryReservation:
        return await ops.reserve_inventory(info.context.db, to_input(input))

    @mutation("inventory:adjust", returns=Reservation)
    async def release_inventory(
        self, info: GqlInfo, reservation_id: strawberry.ID
    ) -> models.InventoryReservation:
        return await ops.release_inventory(info.context.db, reservation_id)

    @mutation("inventory:adjust", returns=Location)
    async def create_location(self, info: GqlInfo, input: CreateLocationInput) -> models.InventoryLocation:
        return await ops.create_location(info.context.db, to_input(input))
