"""HEAD answered as GET without the body (RFC 9110 section 9.3.2).

FastAPI's routes take the methods they declare and no others, so HEAD on a GET route would be a
405; a monitor or a cache that probes with HEAD must see what GET would answer: the status and the
headers (Content-Length included), errors alike, and no body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        scope["method"] = "GET"  # in place: the layers above read what the routes write into the scope
        try:
            await self.app(scope, receive, without_body)
        finally:
            scope["method"] = "HEAD"
