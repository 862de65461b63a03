"""/api/v1/orders: thin adapters over `resolvers.orders` (the state machine, stock and totals live there)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from stateset_gateway.db.models import OrderStatus
from stateset_gateway.resolvers import orders, representations
from stateset_gateway.resolvers.inputs import Instant, OrderCreate, OrderLineInput, OrderSortField, OrderUpdate
from stateset_gateway.rest_compat import envelopes
from stateset_gateway.rest_compat.common import (
    API_PREFIX,
    DB,
    AppSettings,
    Paging,
    errors_doc,
    listing,
    listing_of,
    single,
)
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page, no_content
from stateset_gateway.rest_compat.models import (
    CancelRequest,
    OrderItemOut,
    OrderOut,
    OrderStatusUpdate,
)

router = APIRouter(prefix=f"{API_PREFIX}/orders", tags=["orders"])


@router.get("", response_model=Envelope[Page[OrderOut]], responses=errors_doc(),
            dependencies=[Depends(requires("orders:read"))])
async def list_orders(
    request: Request,
    db: DB,
    paging: Paging,
    status: OrderStatus | None = None,
    customer_id: uuid.UUID | None = None,
    created_from: Annotated[Instant | None, Query(alias="from", description="Created at or after (RFC3339, with its offset).")] = None,
    created_to: Annotated[Instant | None, Query(alias="to", description="Created at or before (RFC3339, with its offset).")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Order number or customer email.")] = None,
    sort_by: OrderSortField = OrderSortField.CREATED_AT,
    sort_order: Literal["asc", "desc"] = "desc",
    include_items: Annotated[bool, Query(description="Add each order's lines (one batch read per page).")] = False,
) -> Response:
    filters = {"status": status, "customer_id": customer_id, "created_from": created_from,
               "created_to": created_to, "search": search}
    sort = {"sort_by": sort_by, "sort_order": sort_order}
    if include_items:
        result, items = await orders.list_orders_with_items(db, filters, **sort, args=paging)
        return listing_of(request, map(representations.order, result.items, items), result)
    return listing(request, representations.order, await orders.list_orders(db, filters, **sort, args=paging))


@router.post("", status_code=201, response_model=Envelope[OrderOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("orders:create"))])
async def create_order(request: Request, db: DB, settings: AppSettings, body: OrderCreate) -> Response:
    """Prices come from the catalogue and every line's stock is reserved, or nothing is written
    (422 INSUFFICIENT_INVENTORY with product_id/requested/available)."""
    order = await orders.create_order(db, body, default_currency=settings.business.default_currency)
    return single(request, representations.order, order, status=201)


@router.get("/by-number/{order_number}", response_model=Envelope[OrderOut], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def get_order_by_number(request: Request, db: DB, order_number: str) -> Response:
    return single(request, representations.order, await orders.get_order_by_number(db, order_number))


@router.get("/{order_id}", response_model=Envelope[OrderOut], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def get_order(request: Request, db: DB, order_id: uuid.UUID) -> Response:
    """The order with its lines."""
    order, items = await orders.get_order_with_items(db, order_id)
    return envelopes.ok(representations.order(order, items), request)


@router.put("/{order_id}", response_model=Envelope[OrderOut], responses=errors_doc(404, 409, 422),
            dependencies=[Depends(requires("orders:update"))])
async def update_order(request: Request, db: DB, order_id: uuid.UUID, body: OrderUpdate) -> Response:
    """Addresses and notes; a stale `expected_version` answers 409, a shipped order 422 ORDER_ALREADY_FULFILLED."""
    return single(request, representations.order, await orders.update_order(db, order_id, body))


@router.delete("/{order_id}", status_code=204, response_class=Response, responses=errors_doc(404, 422),
               dependencies=[Depends(requires("orders:delete"))])
async def delete_order(db: DB, order_id: uuid.UUID) -> Response:
    """Only pending or cancelled orders without shipments or returns; their stock is released."""
    await orders.delete_order(db, order_id)
    return no_content()


@router.get("/{order_id}/items", response_model=Envelope[list[OrderItemOut]], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def list_order_items(request: Request, db: DB, order_id: uuid.UUID) -> Response:
    """All lines of one order (bounded by the order itself, so not paged)."""
    items = await orders.list_order_items(db, order_id)
    return envelopes.ok([representations.order_item(item) for item in items], request)


@router.post("/{order_id}/items", status_code=201, response_model=Envelope[OrderOut],
             responses=errors_doc(404, 422), dependencies=[Depends(requires("orders:update"))])
async def add_order_item(request: Request, db: DB, order_id: uuid.UUID, body: OrderLineInput) -> Response:
    """Add a line to an open order, reserving its stock; answers the order with its new totals."""
    return single(request, representations.order, await orders.add_order_item(db, order_id, body), status=201)


@router.put("/{order_id}/status", response_model=Envelope[OrderOut], responses=errors_doc(404, 409, 422),
            dependencies=[Depends(requires("orders:update"))])
async def update_order_status(request: Request, db: DB, order_id: uuid.UUID, body: OrderStatusUpdate) -> Response:
    """One step of the state machine; any other answers 422 INVALID_STATUS_TRANSITION with from/to/allowed."""
    order = await orders.update_order_status(db, order_id, body.status, body.expected_version)
    return single(request, representations.order, order)


@router.post("/{order_id}/cancel", response_model=Envelope[OrderOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("orders:cancel"))])
async def cancel_order(
    request: Request, db: DB, order_id: uuid.UUID, body: Annotated[CancelRequest | None, Body()] = None
) -> Response:
    """Releases the order's stock; a shipped or delivered order answers 422 ORDER_ALREADY_FULFILLED."""
    order = await orders.cancel_order(db, order_id, body.reason if body else None)
    return single(request, representations.order, order)
