"""What every /api/v1 router shares, written once: the database handle, the settings, the paging
parameters, the documented error responses, and the step from operation results to the success envelope.

Routers stay a few lines per route: declare the permission, call one operation in `resolvers/`,
wrap its result with `single` or `listing` and the resource's function of `resolvers/representations.py`
(the one serializer REST responses and webhook events share). No business rule and no SQL lives here
or in a router.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers.pagination import MAX_LIMIT, OffsetArgs, OffsetPage
from stateset_gateway.rest_compat import envelopes

# Routers carry the full prefix themselves: FastAPI 0.16x applies an include_router(prefix=...) lazily,
# so the route a request sees (and the metrics label taken from it) would lack /api/v1.
API_PREFIX = "/api/v1"
# Deep enough for any real client, small enough that page * limit stays a 64-bit OFFSET everywhere.
MAX_PAGE = 1_000_000


def get_db(request: Request) -> Database:
    """The application's one Database, opened by the lifespan in app.py."""
    return request.app.state.db  # type: ignore[no-any-return]


DB = Annotated[Database, Depends(get_db)]


def get_settings(request: Request) -> Settings:
    """The application's settings; routes hand operations the business settings they need."""
    return request.app.state.settings  # type: ignore[no-any-return]


AppSettings = Annotated[Settings, Depends(get_settings)]


def paging(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page, 1..100.")] = 20,
) -> OffsetArgs:
    """`page` and `limit` of every list; out of range is a 400 VALIDATION_ERROR naming the parameter."""
    return OffsetArgs(page=page, limit=limit)


Paging = Annotated[OffsetArgs, Depends(paging)]


# ---- success -------------------------------------------------------------------------------------

Represent = Callable[[Any], dict[str, Any]]
"""A function of `resolvers/representations.py`: row -> the JSON-ready dict the API answers."""


def single(request: Request, represent: Represent, obj: Any, status: int = 200) -> Response:
    """One resource in the success envelope (201 for creates). The dict goes out as it is: the
    route's `response_model` documents it, and is not run over it again."""
    return envelopes.ok(represent(obj), request, status=status)


def listing(request: Request, represent: Represent, result: OffsetPage[Any]) -> Response:
    """An offset page in the success envelope: `data = {items, total, page, limit, total_pages}`."""
    return listing_of(request, map(represent, result.items), result)


def listing_of(request: Request, items: Iterable[dict[str, Any]], result: OffsetPage[Any]) -> Response:
    """Like `listing`, for items the router has already shaped (e.g. orders with their lines)."""
    data = envelopes.page(list(items), total=result.total, page=result.page, limit=result.limit)
    return envelopes.ok(data, request)


# ---- errors (for OpenAPI; rendering is rest_compat/errors.py) ------------------------------------

class ErrorBody(BaseModel):
    code: str = Field(examples=["NOT_FOUND"], description="Stable machine-readable code (CONTRACT section 2).")
    message: str
    status: int = Field(examples=[404])
    details: dict[str, Any] | None = Field(
        default=None, description='e.g. {"email": ["Email is required"]} or {"field": "sku", "value": "..."}'
    )
    required_permission: str | None = Field(default=None, description="Only on INSUFFICIENT_PERMISSIONS.")
    request_id: str | None = Field(description="Also in the X-Request-ID header and the server log line.")


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorBody
    type: str = Field(examples=["not_found_error"], description=(
        "StateSet API's kind of error, read by its SDKs: invalid_request_error, authentication_error, "
        "permission_error, not_found_error, rate_limit_error or api_error."))
    message: str = Field(description="The same as error.message.")


_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: `details` maps each field to its messages",
    401: "INVALID_TOKEN, TOKEN_EXPIRED or INVALID_API_KEY: missing or bad credentials",
    403: "INSUFFICIENT_PERMISSIONS: the caller lacks `required_permission`",
    404: "NOT_FOUND: no resource with that id",
    409: "DUPLICATE_ENTRY (details: field, value) or VERSION_CONFLICT (stale expected_version)",
    422: "INSUFFICIENT_INVENTORY, INVALID_STATUS_TRANSITION, ORDER_ALREADY_FULFILLED or RETURN_WINDOW_EXPIRED",
}


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: 400/401/403 (every protected route), the `statuses` it may add, and
    `default` for the rest (413, 429, 5xx). Documenting `default` also keeps FastAPI from adding its
    own 422 HTTPValidationError, which this API never sends (validation answers 400)."""
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in sorted({400, 401, 403, *statuses})
    }
    documented["default"] = {"model": ErrorResponse, "description": "Any other error, in the same shape "
                             "(PAYLOAD_TOO_LARGE, RATE_LIMIT_EXCEEDED, INTERNAL_ERROR, SERVICE_UNAVAILABLE, ...)"}
    return documented
