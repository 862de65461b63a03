"""/api/v1/products: thin adapters over `resolvers.products`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stateset_gateway.resolvers import products, representations
from stateset_gateway.resolvers.inputs import ProductCreate, ProductUpdate
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page, no_content
from stateset_gateway.rest_compat.models import ProductOut

router = APIRouter(prefix=f"{API_PREFIX}/products", tags=["products"])


@router.get("", response_model=Envelope[Page[ProductOut]], responses=errors_doc(),
            dependencies=[Depends(requires("products:read"))])
async def list_products(
    request: Request,
    db: DB,
    paging: Paging,
    search: Annotated[str | None, Query(max_length=200, description="In name or SKU.")] = None,
    sku: Annotated[str | None, Query(max_length=64, description="Exact SKU.")] = None,
    is_active: Annotated[bool | None, Query()] = None,
) -> Response:
    result = await products.list_products(db, {"search": search, "sku": sku, "is_active": is_active}, args=paging)
    return listing(request, representations.product, result)


@router.post("", status_code=201, response_model=Envelope[ProductOut], responses=errors_doc(409),
             dependencies=[Depends(requires("products:create"))])
async def create_product(request: Request, db: DB, body: ProductCreate) -> Response:
    """Create a product; a taken SKU answers 409 DUPLICATE_ENTRY with details field/value."""
    return single(request, representations.product, await products.create_product(db, body), status=201)


@router.get("/{product_id}", response_model=Envelope[ProductOut], responses=errors_doc(404),
            dependencies=[Depends(requires("products:read"))])
async def get_product(request: Request, db: DB, product_id: uuid.UUID) -> Response:
    return single(request, representations.product, await products.get_product(db, id=product_id))


@router.put("/{product_id}", response_model=Envelope[ProductOut], responses=errors_doc(404, 409),
            dependencies=[Depends(requires("products:update"))])
async def update_product(request: Request, db: DB, product_id: uuid.UUID, body: ProductUpdate) -> Response:
    """Change the given fields only; a stale `expected_version` answers 409 VERSION_CONFLICT."""
    return single(request, representations.product, await products.update_product(db, product_id, body))


@router.delete("/{product_id}", status_code=204, response_class=Response, responses=errors_doc(404),
               dependencies=[Depends(requires("products:delete"))])
async def delete_product(db: DB, product_id: uuid.UUID) -> Response:
    """A product that orders refer to is archived (is_active=false) instead of erased."""
    await products.delete_product(db, product_id)
    return no_content()
