"""The REST success shapes of CONTRACT section 3, written once for every router.

`{"success": true, "data": ..., "meta": {"request_id", "timestamp"}}`; lists put a page in `data`.
Serialised with orjson: UUIDs as strings, datetimes as RFC3339 UTC, Decimal money as strings
(never floats), pydantic models through `model_dump(mode="json")`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from stateset_gateway.http.state import state_of

T = TypeVar("T")


class Meta(BaseModel):
    request_id: str | None
    timestamp: datetime


class Envelope(BaseModel, Generic[T]):
    """For OpenAPI (`response_model=Envelope[OrderOut]`): routes return `ok(...)`, which has this shape."""

    success: bool = True
    data: T
    meta: Meta


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int
    total_pages: int


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def meta(request: Request) -> dict[str, Any]:
    return {
        "request_id": state_of(request.scope).request_id,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def ok(data: Any, request: Request, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The success envelope around `data` (201 for creates)."""
    body = {"success": True, "data": data, "meta": meta(request)}
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def page(items: Sequence[Any], *, total: int, page: int, limit: int) -> dict[str, Any]:
    """`data` of a list response: `{"items", "total", "page", "limit", "total_pages"}`."""
    return {
        "items": list(items),
        "total": total,
        "page": page,
        "limit": limit,
        "total_pages": math.ceil(total / limit) if limit else 0,
    }


def no_content() -> Response:
    """204 for deletes: no body at all."""
    return Response(status_code=204)
