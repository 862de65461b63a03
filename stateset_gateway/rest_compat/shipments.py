"""/api/v1/shipments: thin adapters over `resolvers.shipments` (shipping consumes stock, delivery starts
the return window)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from stateset_gateway.db.models import ShipmentStatus
from stateset_gateway.resolvers import representations, shipments
from stateset_gateway.resolvers.inputs import ShipmentCreate
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page
from stateset_gateway.rest_compat.models import ShipmentOut

router = APIRouter(prefix=f"{API_PREFIX}/shipments", tags=["shipments"])


@router.get("", response_model=Envelope[Page[ShipmentOut]], responses=errors_doc(),
            dependencies=[Depends(requires("shipments:read"))])
async def list_shipments(
    request: Request, db: DB, paging: Paging, order_id: uuid.UUID | None = None, status: ShipmentStatus | None = None
) -> Response:
    result = await shipments.list_shipments(db, {"order_id": order_id, "status": status}, args=paging)
    return listing(request, representations.shipment, result)


@router.post("", status_code=201, response_model=Envelope[ShipmentOut], responses=errors_doc(404, 409, 422),
             dependencies=[Depends(requires("shipments:create"))])
async def create_shipment(request: Request, db: DB, body: ShipmentCreate) -> Response:
    """For an open order; a taken tracking number answers 409 DUPLICATE_ENTRY."""
    return single(request, representations.shipment, await shipments.create_shipment(db, body), status=201)


@router.get("/track/{tracking_number}", response_model=Envelope[ShipmentOut], responses=errors_doc(404),
            dependencies=[Depends(requires("shipments:read"))])
async def track_shipment(request: Request, db: DB, tracking_number: str) -> Response:
    return single(request, representations.shipment, await shipments.track_shipment(db, tracking_number))


@router.get("/{shipment_id}", response_model=Envelope[ShipmentOut], responses=errors_doc(404),
            dependencies=[Depends(requires("shipments:read"))])
async def get_shipment(request: Request, db: DB, shipment_id: uuid.UUID) -> Response:
    return single(request, representations.shipment, await shipments.get_shipment(db, shipment_id))


@router.post("/{shipment_id}/ship", response_model=Envelope[ShipmentOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("shipments:update"))])
async def ship(request: Request, db: DB, shipment_id: uuid.UUID) -> Response:
    """Hand over to the carrier: the order becomes shipped and its reserved stock leaves on_hand."""
    return single(request, representations.shipment, await shipments.mark_shipped(db, shipment_id))


@router.post("/{shipment_id}/deliver", response_model=Envelope[ShipmentOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("shipments:update"))])
async def deliver(request: Request, db: DB, shipment_id: uuid.UUID) -> Response:
    """The order becomes delivered; its return window starts now."""
    return single(request, representations.shipment, await shipments.mark_delivered(db, shipment_id))
