"""/api/v1/customers: thin adapters over `resolvers.customers`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stateset_gateway.resolvers import customers, representations
from stateset_gateway.resolvers.inputs import CustomerCreate, CustomerUpdate
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page, no_content
from stateset_gateway.rest_compat.models import CustomerOut, OrderOut

router = APIRouter(prefix=f"{API_PREFIX}/customers", tags=["customers"])


@router.get("", response_model=Envelope[Page[CustomerOut]], responses=errors_doc(),
            dependencies=[Depends(requires("customers:read"))])
async def list_customers(
    request: Request,
    db: DB,
    paging: Paging,
    email: Annotated[str | None, Query(max_length=320, description="Exact email (case-insensitive).")] = None,
    search: Annotated[str | None, Query(max_length=200, description="In email, first or last name.")] = None,
) -> Response:
    """Customers, newest first; `email` finds one before creating a duplicate."""
    result = await customers.list_customers(db, {"email": email, "search": search}, args=paging)
    return listing(request, representations.customer, result)


@router.post("", status_code=201, response_model=Envelope[CustomerOut], responses=errors_doc(409),
             dependencies=[Depends(requires("customers:create"))])
async def create_customer(request: Request, db: DB, body: CustomerCreate) -> Response:
    """Create a customer; a taken email answers 409 DUPLICATE_ENTRY with details field/value."""
    return single(request, representations.customer, await customers.create_customer(db, body), status=201)


@router.get("/{customer_id}", response_model=Envelope[CustomerOut], responses=errors_doc(404),
            dependencies=[Depends(requires("customers:read"))])
async def get_customer(request: Request, db: DB, customer_id: uuid.UUID) -> Response:
    return single(request, representations.customer, await customers.get_customer(db, customer_id))


@router.put("/{customer_id}", response_model=Envelope[CustomerOut], responses=errors_doc(404, 409),
            dependencies=[Depends(requires("customers:update"))])
async def update_customer(request: Request, db: DB, customer_id: uuid.UUID, body: CustomerUpdate) -> Response:
    """Change the given fields only; a stale `expected_version` answers 409 VERSION_CONFLICT."""
    return single(request, representations.customer, await customers.update_customer(db, customer_id, body))


@router.delete("/{customer_id}", status_code=204, response_class=Response, responses=errors_doc(404),
               dependencies=[Depends(requires("customers:delete"))])
async def delete_customer(db: DB, customer_id: uuid.UUID) -> Response:
    """Customers with orders keep their history: deleting one answers 400."""
    await customers.delete_customer(db, customer_id)
    return no_content()


@router.get("/{customer_id}/orders", response_model=Envelope[Page[OrderOut]], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def customer_orders(request: Request, db: DB, customer_id: uuid.UUID, paging: Paging) -> Response:
    """The customer's orders, newest first (orders are read with orders:read, whoever they belong to)."""
    return listing(request, representations.order, await customers.customer_orders(db, customer_id, args=paging))
