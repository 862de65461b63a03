"""/api/v1/returns: thin adapters over `resolvers.returns` (requested -> approved|rejected; approved ->
received -> restocked)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Return, ReturnStatus
from stateset_gateway.resolvers import representations, returns
from stateset_gateway.resolvers.inputs import ReturnCreate
from stateset_gateway.rest_compat.common import (
    API_PREFIX,
    DB,
    AppSettings,
    Paging,
    errors_doc,
    listing,
    single,
)
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page
from stateset_gateway.rest_compat.models import ReturnOut

router = APIRouter(prefix=f"{API_PREFIX}/returns", tags=["returns"])


@router.get("", response_model=Envelope[Page[ReturnOut]], responses=errors_doc(),
            dependencies=[Depends(requires("returns:read"))])
async def list_returns(
    request: Request, db: DB, paging: Paging, order_id: uuid.UUID | None = None, status: ReturnStatus | None = None
) -> Response:
    result = await returns.list_returns(db, {"order_id": order_id, "status": status}, args=paging)
    return listing(request, representations.return_, result)


@router.post("", status_code=201, response_model=Envelope[ReturnOut], responses=errors_doc(404, 422),
             dependencies=[Depends(requires("returns:create"))])
async def create_return(request: Request, db: DB, settings: AppSettings, body: ReturnCreate) -> Response:
    """For a delivered order, within the return window (else 422 RETURN_WINDOW_EXPIRED)."""
    ret = await returns.create_return(db, body, return_window_days=settings.business.return_window_days)
    return single(request, representations.return_, ret, status=201)


@router.get("/{return_id}", response_model=Envelope[ReturnOut], responses=errors_doc(404),
            dependencies=[Depends(requires("returns:read"))])
async def get_return(request: Request, db: DB, return_id: uuid.UUID) -> Response:
    return single(request, representations.return_, await returns.get_return(db, return_id))


Step = Callable[[Database, Any], Awaitable[Return]]


def _step_route(action: str, step: Step, summary: str) -> None:
    """POST /returns/{id}/{action}: four routes that differ only in the operation they call."""

    async def advance(request: Request, db: DB, return_id: uuid.UUID) -> Response:
        return single(request, representations.return_, await step(db, return_id))

    advance.__name__ = f"{action}_return"
    advance.__doc__ = f"{summary} Out of order answers 422 INVALID_STATUS_TRANSITION with from/to/allowed."
    router.add_api_route(
        f"/{{return_id}}/{action}", advance, methods=["POST"], name=advance.__name__,
        response_model=Envelope[ReturnOut], responses=errors_doc(404, 422),
        dependencies=[Depends(requires("returns:approve"))],
    )


_step_route("approve", returns.approve_return, "Accept a requested return.")
_step_route("reject", returns.reject_return, "Refuse a requested return.")
_step_route("receive", returns.receive_return, "The approved goods have arrived.")
_step_route("restock", returns.restock_return, "Put received goods back on hand.")
_step_route("refund", returns.refund_return, "Refund a restocked return.")
