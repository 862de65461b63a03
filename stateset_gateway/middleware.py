"""One pure-ASGI middleware for what every request needs: an id, a body limit, a timeout, a log
line and a metric, and a last line of defence that turns any escaped exception into INTERNAL_ERROR.

Pure ASGI (not BaseHTTPMiddleware) because it sits on the hot path of every request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect

from stateset_gateway import errors
from stateset_gateway.observability import Metrics, RequestLog, new_request_id, request_id_var

# Headers a layer inside this one wants on every answer to the request (the rate limit's budget).
RESPONSE_HEADERS = "response_headers"

log = logging.getLogger("stateset_gateway.http")
CLIENT_CLOSED_REQUEST = 499  # as nginx logs it: the client closed the connection first
request_log = RequestLog(log.name)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorRenderer = Callable[[errors.DomainError, str], tuple[int, dict[str, str], bytes]]


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        render_error: ErrorRenderer,
        max_body_bytes: int,
        timeout_seconds: float,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.render_error = render_error
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, length = _request_headers(scope)
        request_id = (request_id or new_request_id())[:128]
        request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message = {**message, "headers": [*message.get("headers", ()), id_header,
                                                  *state.get(RESPONSE_HEADERS, ())]}
            await send(message)

        async def fail(error: errors.DomainError) -> None:
            if response_started:
                return
            self.metrics.count_error(error.code.value)
            code, headers, body = self.render_error(error, request_id)
            rendered = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            names = {name for name, _ in rendered}
            state[RESPONSE_HEADERS] = [h for h in state.get(RESPONSE_HEADERS, ()) if h[0] not in names]
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": code,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *rendered],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})

        try:
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await fail(errors.PayloadTooLarge(f"Request body exceeds {self.max_body_bytes} bytes"))
            else:
                # asyncio.timeout, not wait_for: the request runs in its own task, with no second task per request.
                async with asyncio.timeout(self.timeout_seconds):
                    await self.app(scope, self._limited(receive), send_with_id)
        except ClientDisconnect:  # gone before its body arrived: nobody to answer, nothing went wrong here
            status = CLIENT_CLOSED_REQUEST
        except TimeoutError:
            await fail(errors.RequestTimeout(f"Request exceeded {self.timeout_seconds:g}s"))
        except _BodyTooLarge:
            await fail(errors.PayloadTooLarge(f"Request body exceeds {self.max_body_bytes} bytes"))
        except Exception as exc:  # the last line of defence: never a bare 500
            error = errors.to_domain_error(exc)
            if error is None:
                log.exception("unhandled exception", extra={"path": scope.get("path")})
                error = errors.InternalError()
            await fail(error)
        finally:
            elapsed = time.perf_counter() - started
            route_path = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route_path, status, elapsed)
            request_log.write({"method": scope["method"], "path": scope["path"], "status": status,
                               "duration_ms": round(elapsed * 1000, 2)})

    def _limited(self, receive: Receive) -> Receive:
        """Count streamed bytes too: a chunked body without Content-Length is held to the same limit."""
        seen = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        return wrapped


async def read_body(receive: Any) -> bytes:
    """The whole request body, read from the ASGI channel as Starlette's `Request.body()` reads it,
    without the async generator it goes through for every chunk."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class _BodyTooLarge(Exception):
    pass


def _request_headers(scope: Scope) -> tuple[str | None, str | None]:
    """X-Request-ID and Content-Length, in one pass (ASGI servers give header names in lower case)."""
    request_id = length = None
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            request_id = value.decode("latin-1")
        elif key == b"content-length":
            length = value.decode("latin-1")
    return request_id, length
