"""CORS, with its refusals in the documented error shape: Starlette answers a preflight it refuses
with a plain-text 400 ("Disallowed CORS origin"); this answers the same 400 as every other error,
naming each refused part and the setting that allows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from stateset_gateway import errors
from stateset_gateway.http.context import Rendered
from stateset_gateway.http.logs import new_request_id

# Starlette's name of each refused part of a preflight -> (the request header it is in, the setting that allows it)
REFUSED = {
    "origin": ("Origin", "cors_origins"),
    "method": ("Access-Control-Request-Method", "cors_methods"),
    "headers": ("Access-Control-Request-Headers", "cors_headers"),
    "private-network": ("Access-Control-Request-Private-Network", None),
}
FAILURE_PREFIX = "Disallowed CORS "


class CORS(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, render: Callable[[errors.DomainError, str], Rendered],
                 **options: Any) -> None:
        super().__init__(app, **options)
        self.render = render

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode().removeprefix(FAILURE_PREFIX).split(", ")
        problems: dict[str, list[str]] = {}
        for part in refused:
            header, setting = REFUSED.get(part, (part, None))
            sent = request_headers.get(header, "")
            hint = f": add it to [server] {setting}" if setting else ""
            problems[header] = [f"{sent!r} is not allowed here{hint}"]
        request_id = request_headers.get("x-request-id", "")[:128] or new_request_id()
        error = errors.ValidationFailed(problems, "CORS preflight refused: " + ", ".join(refused) + " not allowed")
        status, media, headers, body = self.render(error, request_id)
        kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
        return Response(body, status_code=status, media_type=media,
                        headers={**kept, **headers, "X-Request-ID": request_id})
