"""/api/v1/inventory: stock levels per (product, location) and manual reservations, over `resolvers.inventory`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stateset_gateway.db.models import ReservationStatus
from stateset_gateway.resolvers import inventory, representations
from stateset_gateway.resolvers.inputs import InventoryAdjust, InventoryReserve, LocationCreate
from stateset_gateway.rest_compat import envelopes
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page
from stateset_gateway.rest_compat.models import InventoryLevelOut, LocationOut, ReleaseRequest, ReservationOut

router = APIRouter(prefix=f"{API_PREFIX}/inventory", tags=["inventory"])


@router.get("", response_model=Envelope[Page[InventoryLevelOut]], responses=errors_doc(),
            dependencies=[Depends(requires("inventory:read"))])
async def list_inventory(
    request: Request,
    db: DB,
    paging: Paging,
    product_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    low_stock: Annotated[bool | None, Query(description="true: available <= reorder_point")] = None,
) -> Response:
    """Check stock before ordering: `?product_id=...` lists that product's levels per location."""
    filters = {"product_id": product_id, "location_id": location_id, "low_stock": low_stock}
    return listing(request, representations.inventory_level, await inventory.list_levels(db, filters, args=paging))


# Declared before /{level_id}, which would otherwise claim the words "locations" and "reservations".
@router.get("/locations", response_model=Envelope[list[LocationOut]], responses=errors_doc(),
            dependencies=[Depends(requires("inventory:read"))])
async def list_locations(request: Request, db: DB) -> Response:
    """Where stock is kept (a handful of warehouses and stores, so not paged): the ids `adjust` needs."""
    return envelopes.ok([representations.location(loc) for loc in await inventory.list_locations(db)], request)


@router.post("/locations", status_code=201, response_model=Envelope[LocationOut], responses=errors_doc(409),
             dependencies=[Depends(requires("inventory:adjust"))])
async def create_location(request: Request, db: DB, body: LocationCreate) -> Response:
    """A new warehouse or store; a taken `code` answers 409 DUPLICATE_ENTRY."""
    return single(request, representations.location, await inventory.create_location(db, body), status=201)


@router.get("/reservations", response_model=Envelope[Page[ReservationOut]], responses=errors_doc(),
            dependencies=[Depends(requires("inventory:read"))])
async def list_reservations(
    request: Request,
    db: DB,
    paging: Paging,
    product_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    status: ReservationStatus | None = None,
) -> Response:
    result = await inventory.list_reservations(db, product_id=product_id, order_id=order_id, status=status,
                                               args=paging)
    return listing(request, representations.reservation, result)


@router.post("/adjust", response_model=Envelope[InventoryLevelOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("inventory:adjust"))])
async def adjust_inventory(request: Request, db: DB, body: InventoryAdjust) -> Response:
    """Receive (delta > 0) or write off (delta < 0) stock; never below what is reserved (422)."""
    return single(request, representations.inventory_level, await inventory.adjust_inventory(db, body))


@router.post("/reserve", status_code=201, response_model=Envelope[ReservationOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("inventory:adjust"))])
async def reserve_inventory(request: Request, db: DB, body: InventoryReserve) -> Response:
    """Hold stock outside an order; not enough available answers 422 INSUFFICIENT_INVENTORY."""
    return single(request, representations.reservation, await inventory.reserve_inventory(db, body), status=201)


@router.post("/release", response_model=Envelope[ReservationOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("inventory:adjust"))])
async def release_inventory(request: Request, db: DB, body: ReleaseRequest) -> Response:
    """Give a held quantity back to `available`; releasing twice answers 422 INVALID_STATUS_TRANSITION."""
    return single(request, representations.reservation, await inventory.release_inventory(db, body.reservation_id))


@router.get("/{level_id}", response_model=Envelope[InventoryLevelOut], responses=errors_doc(404),
            dependencies=[Depends(requires("inventory:read"))])
async def get_inventory_level(request: Request, db: DB, level_id: uuid.UUID) -> Response:
    return single(request, representations.inventory_level, await inventory.get_level(db, level_id))
