"""Assembly: one FastAPI application serving /graphql, /api/v1 and the operations endpoints."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from stateset_gateway import __version__, ops
from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.idempotency import IdempotencyMiddleware
from stateset_gateway.middleware import RequestContextMiddleware
from stateset_gateway.observability import Metrics, configure_logging
from stateset_gateway.rest_compat import api as rest_api
from stateset_gateway.rest_compat import errors as rest_errors
from stateset_gateway.schema.http import GraphQLEndpoint, GraphQLRoute
from stateset_gateway.schema.schema import build_schema
from stateset_gateway.traffic import RateLimiter, RateLimitMiddleware


def create_served_app() -> FastAPI:
    """What `stateset-cli serve` runs in each worker: `create_app()` for a long-lived process, which
    also takes everything built at start-up out of the garbage collector's reach once it is up."""
    app = create_app()
    app.state.freeze_gc = True
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.logging.level, settings.logging.file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings)
        app.state.db = db
        app.state.redis = None
        if settings.redis_url:
            from redis.asyncio import Redis

            app.state.redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            await db.warm_up()
        except Exception:  # readiness reports it; the process still starts and recovers by itself
            pass
        if getattr(app.state, "freeze_gc", False):
            # Start-up leaves a large heap that lives as long as the process (the schema, routes,
            # SQLAlchemy and pydantic metadata). Left to the collector, every full collection walks
            # all of it again: on a nested 50-order page that was a third of the request's CPU.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await db.dispose()

    app = FastAPI(
        title="StateSet Gateway",
        version=__version__,
        description="GraphQL at /graphql (primary) and the StateSet API v1 REST compatibility layer at /api/v1.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        # Our own Prometheus metrics and JSON logs cover this; FastAPI's OpenTelemetry hooks would
        # otherwise look up the providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = Metrics()

    rest_errors.install(app)
    app.include_router(ops.router)
    app.include_router(rest_api.build_router())

    # Innermost: /graphql is answered here, before FastAPI's router (see GraphQLRoute).
    budget = (None if settings.graphql.cost_budget == "off"
              else RateLimiter(settings, settings.graphql.cost_budget, purpose="cost"))
    app.add_middleware(GraphQLRoute, endpoint=GraphQLEndpoint(build_schema()._schema, settings.graphql,
                                                              app.state.metrics, budget=budget))
    app.add_middleware(IdempotencyMiddleware, settings=settings)
    if settings.rate_limit != "off":
        app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(settings))
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        render_error=rest_errors.render,
        max_body_bytes=settings.server.max_body_bytes,
        timeout_seconds=settings.server.request_timeout,
    )
    # Outermost: every answer, errors rendered by the request-context middleware included, carries
    # the CORS headers a browser needs to read it; preflights are answered here.
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=settings.server.cors_methods,
            allow_headers=settings.server.cors_headers,
            expose_headers=["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                            "Retry-After", "Idempotent-Replayed"],
        )
    return app
