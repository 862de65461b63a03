"""/graphql, answered by an ASGI layer ahead of FastAPI's router.

/graphql needs nothing the framework's routing adds (no dependencies to solve, no OpenAPI), and
skipping the router, its exception middleware and its per-request machinery is most of the
per-request floor. What it answers is the schema's business (`schema.http.GraphQLEndpoint`); errors
raised here are rendered, in GraphQL's shape, by the request-context layer.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from stateset_gateway import errors
from stateset_gateway.http.body import read_body
from stateset_gateway.http.state import SCOPE_KEY
from stateset_gateway.schema.http import GraphQLEndpoint

PATH = "/graphql"
METHODS = ("GET", "HEAD", "POST")


class GraphQLRoute:
    def __init__(self, app: Any, endpoint: GraphQLEndpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY].route = PATH  # the metrics' route label
        if scope["method"] not in METHODS:
            raise errors.MethodNotAllowed(f"Method {scope['method']} is not allowed for {PATH}",
                                          allow=["GET", "POST"])
        body = await read_body(receive) if scope["method"] == "POST" else b""
        response = await self.endpoint(Request(scope, receive), body)
        await response(scope, receive, send)
