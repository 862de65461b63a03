"""The paths StateSet's published SDKs call where ours differ: thin aliases over the same
operations, with the same permissions, payloads and errors as the routes they stand beside.

- `POST /orders/{id}/ship` (`orders.mark_as_shipped`): create the order's shipment and ship it, one operation.
- `GET /orders/search?query=` (`orders.search`): the order list's `search`.
- `POST /inventory/{id}/adjust` (`inventory.adjust`): `POST /inventory/adjust` for that level, a signed `quantity`.

Mounted ahead of the domain routers, so `/orders/search` is this route, not an order id.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, Field, StringConstraints

from stateset_gateway.resolvers import inventory, orders, representations, shipments
from stateset_gateway.resolvers.inputs import Input
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page
from stateset_gateway.rest_compat.models import InventoryLevelOut, OrderOut, ShipmentOut

router = APIRouter(prefix=API_PREFIX, tags=["StateSet SDK paths"])


class OrderShipping(Input):
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    shipped_at: AwareDatetime | None = Field(None, description="When the parcel left, if before now (RFC3339).")


class LevelAdjustment(Input):
    quantity: Annotated[int, Field(ge=-1_000_000, le=1_000_000, description="Received (> 0) or written off (< 0).")]
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


@router.post("/orders/{order_id}/ship", status_code=201, response_model=Envelope[ShipmentOut],
             responses=errors_doc(404, 409, 422),
             dependencies=[Depends(requires("shipments:update"))])
async def ship_order(request: Request, db: DB, order_id: uuid.UUID, body: OrderShipping) -> Response:
    """`POST /shipments` and `POST /shipments/{id}/ship` as one operation: the order is shipped with
    this parcel (its stock consumed), or nothing is written. Needs what shipping needs
    (`shipments:update`): the parcel exists only as part of the hand-over."""
    shipment = await shipments.ship_order(db, order_id, carrier=body.carrier, tracking_number=body.tracking_number,
                                          shipped_at=body.shipped_at)
    return single(request, representations.shipment, shipment, status=201)


@router.get("/orders/search", response_model=Envelope[Page[OrderOut]], responses=errors_doc(),
            dependencies=[Depends(requires("orders:read"))])
async def search_orders(
    request: Request, db: DB, paging: Paging,
    query: Annotated[str, Query(min_length=1, max_length=200, description="Order number or customer email.")],
) -> Response:
    """`GET /orders?search=`, newest first."""
    return listing(request, representations.order, await orders.list_orders(db, {"search": query}, args=paging))


@router.post("/inventory/{level_id}/adjust", response_model=Envelope[InventoryLevelOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("inventory:adjust"))])
async def adjust_level(request: Request, db: DB, level_id: uuid.UUID, body: LevelAdjustment) -> Response:
    """`POST /inventory/adjust` for this level's product and location, `quantity` as its `delta`."""
    level = await inventory.get_level(db, level_id)
    adjusted = await inventory.adjust_inventory(db, {"product_id": level.product_id, "location_id": level.location_id,
                                                     "delta": body.quantity, "reason": body.reason})
    return single(request, representations.inventory_level, adjusted)
