"""The README's GraphQL walk-through on the demo data of `make run`, as a new user follows it: the
low-stock query shows stock to reorder, and the mutation runs with ids the queries above it select."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from tests.support.graphql_client import GraphQLClient

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO = SeedSize(customers=50, products=20, orders=200)  # what `serve --demo` adds


def _examples() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


async def test_low_stock_query_shows_stock_to_reorder_and_the_mutation_uses_ids_from_the_queries(
        client: httpx.AsyncClient, admin_headers: dict[str, str], db: Database) -> None:
    await seed(db, DEMO)
    gql = GraphQLClient(client, admin_headers)
    orders_query, low_stock_query, customers_query, mutation = _examples()[:4]
    assert mutation.lstrip().startswith("mutation")

    low = (await gql(low_stock_query))["inventory"]["nodes"]
    assert len(low) >= 2
    assert all(level["available"] <= level["reorderPoint"] for level in low)

    customer = (await gql(customers_query))["customers"]["nodes"][0]["id"]
    product = low[0]["product"]["id"]
    created = (await gql(mutation, {"customer": customer, "product": product}))["createOrder"]
    assert created["status"] == "PENDING" and created["items"][0]["quantity"] == 2
    assert created["items"][0]["sku"] == low[0]["product"]["sku"]
    assert (await gql(orders_query))["orders"]["totalCount"] > 0
