"""The request-context layer: what every request needs before and after anything else runs.

Before: an id, the per-request state (`RequestState`, with the caller named from the headers in the
same one pass), a body limit and a timeout. After: a log line and a metric, and a last line of
defence that turns any escaped exception into its documented error, rendered in the shape of the
request's transport (GraphQL on /graphql, the REST payload elsewhere).

Pure ASGI (not BaseHTTPMiddleware) because it sits on the hot path of every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect

from stateset_gateway import errors
from stateset_gateway.auth.caller import Callers
from stateset_gateway.db.errors import to_domain_error
from stateset_gateway.http.deadlines import Deadlines
from stateset_gateway.http.logs import RequestLog, new_request_id, request_id_var
from stateset_gateway.http.metrics import Metrics
from stateset_gateway.http.state import SCOPE_KEY, RequestState

log = logging.getLogger("stateset_gateway.http")
CLIENT_CLOSED_REQUEST = 499  # as nginx logs it: the client closed the connection first
request_log = RequestLog(log.name)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (status, media type, headers, body) of a refused request, for one transport
Rendered = tuple[int, str, dict[str, str], bytes]


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        callers: Callers,
        metrics: Metrics,
        graphql_path: str,
        render_graphql: Callable[[errors.DomainError, str, str], Rendered],
        render_rest: Callable[[errors.DomainError, str], Rendered],
        max_body_bytes: int,
        timeout_seconds: float,
    ) -> None:
        self.app = app
        self.callers = callers
        self.metrics = metrics
        self.graphql_path = graphql_path
        self.render_graphql = render_graphql
        self.render_rest = render_rest
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds
        self.deadlines = Deadlines(timeout_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = length = None
        api_keys: list[bytes] = []
        authorizations: list[bytes] = []  # every value: a repeated credential header is refused, not picked from
        for key, value in scope["headers"]:  # one pass; ASGI servers give header names in lower case
            if key == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
            elif key == b"content-length":
                length = value
            elif key == b"x-api-key":
                api_keys.append(value)
            elif key == b"authorization":
                authorizations.append(value)
        request_id = request_id or new_request_id()
        request_id_var.set(request_id)
        state = scope[SCOPE_KEY] = RequestState(
            request_id, self.callers.identify(api_keys, authorizations, scope.get("client")))
        started = time.perf_counter()
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message = {**message, "headers": [*message.get("headers", ()), id_header, *state.response_headers]}
            await send(message)

        async def fail(error: errors.DomainError) -> None:
            if response_started:
                return
            self.metrics.count_error(error.code.value)
            if scope["path"] == self.graphql_path:
                accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), "")
                code, media, headers, body = self.render_graphql(error, request_id, accept)
            else:
                code, media, headers, body = self.render_rest(error, request_id)
            await send_with_id({
                "type": "http.response.start",
                "status": code,
                "headers": [(b"content-type", media.encode()), (b"content-length", b"%d" % len(body)),
                            *((k.lower().encode(), v.encode()) for k, v in headers.items())],
            })
            await send_with_id({"type": "http.response.body", "body": body})

        try:
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await fail(errors.PayloadTooLarge(f"Request body exceeds {self.max_body_bytes} bytes"))
            else:
                # In the request's own task (no second task per request, as wait_for would make) and on
                # one timer for all requests (deadlines.py).
                with self.deadlines.limit():
                    await self.app(scope, self._limited(receive), send_with_id)
        except ClientDisconnect:  # gone before its body arrived: nobody to answer, nothing went wrong here
            status = CLIENT_CLOSED_REQUEST
        except TimeoutError:
            await fail(errors.RequestTimeout(f"Request exceeded {self.timeout_seconds:g}s"))
        except _BodyTooLarge:
            await fail(errors.PayloadTooLarge(f"Request body exceeds {self.max_body_bytes} bytes"))
        except Exception as exc:  # the last line of defence: never a bare 500
            error = to_domain_error(exc)
            if error is None:
                log.exception("unhandled exception", extra={"path": scope.get("path")})
                error = errors.InternalError()
            await fail(error)
        finally:
            elapsed = time.perf_counter() - started
            route = state.route or getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route, status, elapsed)
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


class _BodyTooLarge(BaseException):
    """Raised into whoever reads the body past the limit, and caught above. A BaseException because
    FastAPI turns any Exception raised while it reads a route's body into its own 400."""
