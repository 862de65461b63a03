"""The /api/v1 router: every domain router of the REST compatibility layer, mounted once by app.py."""

from __future__ import annotations

from fastapi import APIRouter

from stateset_gateway.rest_compat import customers, inventory, orders, products, returns, shipments

PREFIX = "/api/v1"


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX)
    for module in (customers, products, inventory, orders, returns, shipments):
        router.include_router(module.router)
    return router
