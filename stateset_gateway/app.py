"""Assembly: one FastAPI application serving /graphql, /api/v1 and the operations endpoints."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from stateset_gateway import __version__
from stateset_gateway.auth.key_cache import KeyCache
from stateset_gateway.caches import cache_for
from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.migrate import SchemaProbe
from stateset_gateway.http import operations, pipeline
from stateset_gateway.http.logs import configure_logging
from stateset_gateway.http.metrics import Metrics
from stateset_gateway.http.rate_limit import RateLimiter
from stateset_gateway.ide import assets as ide_assets
from stateset_gateway.ide import swagger
from stateset_gateway.rest_compat import api as rest_api
from stateset_gateway.rest_compat import errors as rest_errors
from stateset_gateway.schema.http import GraphQLEndpoint
from stateset_gateway.schema.schema import build_schema


# The collector's first threshold in a served process (CPython's default is 700): see settle_collector.
YOUNG_COLLECTION_THRESHOLD = 50_000


def settle_collector() -> None:
    """Set the garbage collector up for a long-lived server, once it is up.

    Start-up leaves a large heap that lives as long as the process (the schema, routes, SQLAlchemy
    and pydantic metadata): frozen, no full collection walks it again (on a nested 50-order page that
    was a third of the request's CPU). A request then makes thousands of objects that live until its
    answer is written (rows, records, the answer's dicts) and leaves no cycles behind
    (tests/graphql/test_request_cycles.py); at CPython's threshold of 700 the collector ran several
    times inside each nested page, walking those live objects to find nothing, 7 to 8 % of the page's
    CPU. At 50,000 net allocations a request finishes first and frees its objects by reference count.
    The collector still runs for what does make cycles, only less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def create_served_app() -> FastAPI:
    """What `stateset-cli serve` runs in each worker: `create_app()` for a long-lived process, which
    also sets the garbage collector up for a long-lived process once it is up (settle_collector)."""
    app = create_app()
    app.state.freeze_gc = True
    app.state.dispatch_webhooks = app.state.settings.webhooks.dispatch_in_server
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.logging.level, settings.log_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings)
        app.state.db = db
        app.state.schema = SchemaProbe(db.engine)
        app.state.redis = None
        if settings.redis_url:
            app.state.redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        await keys.start()
        try:
            await db.warm_up()
        except Exception:  # readiness reports it; the process still starts and recovers by itself
            pass
        if getattr(app.state, "freeze_gc", False):
            settle_collector()
        background = AsyncExitStack()
        if getattr(app.state, "dispatch_webhooks", False):  # `serve`: webhook deliveries in this process
            from stateset_gateway.webhooks import dispatcher

            await background.enter_async_context(dispatcher.running(db, registry=app.state.metrics.registry))
        try:
            yield
        finally:
            await background.aclose()
            await keys.close()
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await db.dispose()

    app = FastAPI(
        title="StateSet Gateway",
        version=__version__,
        description="GraphQL at /graphql (primary) and the StateSet API v1 REST compatibility layer at /api/v1.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # ide.swagger serves /docs with its own files
        redoc_url=None,
        lifespan=lifespan,
        # Our own Prometheus metrics and JSON logs cover this; FastAPI's OpenTelemetry hooks would
        # otherwise look up the providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = Metrics()

    rest_errors.install(app)
    app.include_router(operations.router)
    app.include_router(ide_assets.router)
    app.include_router(swagger.router)
    app.include_router(rest_api.build_router())
    budget = (None if settings.graphql.cost_budget == "off"
              else RateLimiter(settings, settings.graphql.cost_budget, purpose="cost"))
    graphql = GraphQLEndpoint(build_schema()._schema, settings.graphql, app.state.metrics, budget=budget,
                              documents=cache_for(settings, "documents"), plans=cache_for(settings, "plans"),
                              persisted=cache_for(settings, "persisted_queries"),
                              nested_lists=settings.database_kind == "postgresql")  # arrays: joins.py
    app.state.graphql = graphql
    keys = app.state.keys = KeyCache(settings)
    pipeline.install(app, settings, app.state.metrics, graphql, keys)
    return app
