"""Webhook tests: a real receiver on loopback, and a dispatcher with fast retries on the test database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import WebhookDelivery, WebhookEvent
from stateset_gateway.webhooks.dispatcher import Dispatcher
from tests.support.graphql_client import GraphQLClient
from tests.webhooks.receiver import Receiver

FAST = {"backoff_seconds": 0.05, "backoff_factor": 1.0, "max_backoff_seconds": 0.2, "poll_interval_seconds": 0.02,
        "timeout_seconds": 3.0, "lease_seconds": 10.0}


def fast_settings(settings: Settings, **webhooks: Any) -> Settings:
    """The test settings with retries in tens of milliseconds instead of minutes."""
    return settings.model_copy(update={"webhooks": settings.webhooks.model_copy(update={**FAST, **webhooks})})


@pytest.fixture
def client(differential_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """GraphQL queries sent here are checked against graphql-core too (tests/conftest.py)."""
    return differential_client


@pytest.fixture
async def gql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> GraphQLClient:
    return GraphQLClient(client, admin_headers)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def dispatcher_running(settings: Settings) -> AsyncIterator[Dispatcher]:
    """A dispatcher on its own engine, in the background, for the block."""
    db = Database(settings)
    stop = asyncio.Event()
    dispatcher = Dispatcher(db)
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await task
        await db.dispose()


@pytest.fixture
async def dispatching(settings: Settings, app: Any) -> AsyncIterator[Dispatcher]:
    """A running dispatcher with fast retries (`app` first: the database is emptied after both)."""
    async with dispatcher_running(fast_settings(settings, max_attempts=5)) as dispatcher:
        yield dispatcher


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.reader() as session:
        return list((await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))).all())


async def outbox(db: Database) -> list[WebhookEvent]:
    async with db.reader() as session:
        return list((await session.scalars(select(WebhookEvent).order_by(WebhookEvent.created_at))).all())


async def eventually(check: Any, timeout: float = 60) -> None:
    """Until `await check()` is true (a generous deadline; missing it means it never happened)."""
    import time

    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s")
        await asyncio.sleep(0.02)
