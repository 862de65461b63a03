"""A row held by a concurrent transaction past the lock timeout answers RESOURCE_LOCKED, not a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from stateset_gateway.app import create_app
from stateset_gateway.config import load_settings
from stateset_gateway.db.engine import Database
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient


@pytest.fixture
async def impatient_gql(database_url: str, db: Database, auth_headers: Any) -> AsyncIterator[GraphQLClient]:
    """The gateway with short lock waits: 0.3 s for a row lock (PostgreSQL) or the write lock (SQLite)."""
    settings = load_settings(database_url=database_url, database={"lock_timeout_ms": 300, "connect_timeout": 0.3})
    app = create_app(settings)
    headers = await auth_headers(["admin:*"])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield GraphQLClient(client, headers)


async def test_locked_stock_answers_resource_locked(impatient_gql: GraphQLClient, db: Database, backend: str) -> None:
    gql = impatient_gql
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5)
    async with db.write_engine.connect() as holder:
        if backend == "postgresql":
            await holder.execute(text("BEGIN"))
            await holder.execute(text("SELECT * FROM inventory_balances FOR UPDATE"))
        else:
            await holder.execute(text("UPDATE inventory_balances SET version = version"))  # BEGIN IMMEDIATE held
        err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                              {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 1}]}})
        await holder.rollback()
    assert err["extensions"]["code"] == "RESOURCE_LOCKED"
    assert err["extensions"]["status"] == 423
    assert (await gql("{ orders { totalCount } }"))["orders"]["totalCount"] == 0
    assert await f.levels(gql, p["id"]) == [{"onHand": 5, "reserved": 0, "available": 5}]
