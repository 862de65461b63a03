"""The /api/v1 router: every domain router of the REST compatibility layer, mounted once by app.py."""

from __future__ import annotations

from fastapi import APIRouter

from stateset_gateway.rest_compat import (
    auth_routes,
    customers,
    inventory,
    orders,
    products,
    returns,
    shipments,
)


def build_router() -> APIRouter:
    """Each domain router already carries its /api/v1/<domain> prefix (see common.API_PREFIX)."""
    router = APIRouter()
    for module in (auth_routes, customers, products, inventory, orders, returns, shipments):
        router.include_router(module.router)
    return router
