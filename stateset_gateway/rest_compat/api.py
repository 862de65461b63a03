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
    sdk_aliases,
    shipments,
    webhooks,
)


def build_router() -> APIRouter:
    """Each domain router already carries its /api/v1/<domain> prefix (see common.API_PREFIX); the
    SDK's aliases come first, so that their fixed paths win over the domain routers' `{id}`s."""
    router = APIRouter()
    for module in (sdk_aliases, auth_routes, customers, products, inventory, orders, returns, shipments,
                   webhooks):
        router.include_router(module.router)
    return router
