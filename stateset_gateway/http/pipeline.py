"""The HTTP pipeline, outermost layer first: the one place that says in which order a request meets
the gateway's layers, and why in that order.

1. CORS (when `[server] cors_origins` is set): outermost, so every answer, errors included, carries
   the headers a browser needs to read it; preflights are answered here and never counted.
2. Request context (`context`): the request id, the per-request state with the caller named, the
   body limit (413) and the timeout (504), the log line and the metric, and the last line of
   defence: whatever a layer below raises is answered here, in the shape of the request's
   transport (`schema.errors` on /graphql, `rest_compat.errors` elsewhere).
3. WebSocket /graphql (`websocket`): GraphQL subscriptions, answered here; the layers below are
   for HTTP requests (a socket's credentials come in its first message, and it lives longer than
   any request timeout).
4. Rate limit (`rate_limit`, unless `rate_limit = "off"`): counts the caller, refuses with 429.
5. Idempotency (`idempotency`): replays or records writes sent with `Idempotency-Key`.
6. /graphql (`graphql_route`): answered here, ahead of FastAPI's router.
7. HEAD as GET (`head`): every GET route answers HEAD, without the body.
8. FastAPI (its own exception handlers, then the router): /api/v1, the operations endpoints, /docs.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from starlette.middleware import Middleware

from stateset_gateway.auth.caller import Callers
from stateset_gateway.auth.key_cache import KeyCache
from stateset_gateway.config import Settings
from stateset_gateway.http import graphql_route
from stateset_gateway.http.context import RequestContextMiddleware
from stateset_gateway.http.cors import CORS
from stateset_gateway.http.head import HeadAsGet
from stateset_gateway.http.idempotency import IdempotencyMiddleware
from stateset_gateway.http.metrics import Metrics
from stateset_gateway.http.rate_limit import RateLimiter, RateLimitMiddleware
from stateset_gateway.http.websocket import GraphQLWebSocket
from stateset_gateway.rest_compat import errors as rest_errors
from stateset_gateway.schema import errors as graphql_errors
from stateset_gateway.schema.http import GraphQLEndpoint

EXPOSED_HEADERS = ["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                   "Retry-After", "Idempotent-Replayed"]


def layers(settings: Settings, metrics: Metrics, graphql: GraphQLEndpoint, keys: KeyCache) -> list[Middleware]:
    server = settings.server
    stack: list[Middleware] = []
    if server.cors_origins:
        stack.append(Middleware(CORS, allow_origins=server.cors_origins, allow_methods=server.cors_methods,
                                allow_headers=server.cors_headers, expose_headers=EXPOSED_HEADERS,
                                render=rest_errors.render))
    callers = Callers(settings, keys)
    stack.append(Middleware(RequestContextMiddleware, callers=callers, metrics=metrics,
                            graphql_path=graphql_route.PATH, render_graphql=graphql_errors.render,
                            render_rest=rest_errors.render, max_body_bytes=server.max_body_bytes,
                            timeout_seconds=server.request_timeout))
    stack.append(Middleware(GraphQLWebSocket, settings=settings, callers=callers, endpoint=graphql))
    if settings.rate_limit != "off":
        stack.append(Middleware(RateLimitMiddleware, limiter=RateLimiter(settings)))
    stack.append(Middleware(IdempotencyMiddleware, max_run=timedelta(seconds=server.request_timeout)))
    stack.append(Middleware(graphql_route.GraphQLRoute, endpoint=graphql))
    stack.append(Middleware(HeadAsGet))
    return stack


def install(app: FastAPI, settings: Settings, metrics: Metrics, graphql: GraphQLEndpoint, keys: KeyCache) -> None:
    """Put the layers around `app`'s own stack, in the order above; `keys` is the app's cache of
    verified API keys (its subscription is the lifespan's to start and stop)."""
    for layer in reversed(layers(settings, metrics, graphql, keys)):  # each add_middleware wraps the ones before
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
