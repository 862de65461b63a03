"""What makes the API fast, as a client can observe it: no N+1, and no oversell under concurrency."""

from __future__ import annotations

import asyncio

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog, per_row_work

NESTED = """query($n: Int!) { orders(first: $n) { totalCount nodes {
  customer { email }
  items { quantity product { sku inventoryLevels { available } } }
} } }"""


async def test_nested_orders_query_costs_the_same_statements_for_10_and_100_rows(
    gql: GraphQLClient, sql: StatementLog, db: Database
) -> None:
    await seed(db, SeedSize(customers=30, products=20, orders=120))
    counts = {}
    for n in (10, 100):
        with sql.recording() as statements:
            data = await gql(NESTED, {"n": n})
        assert len(data["orders"]["nodes"]) == n
        assert all(node["items"] and node["customer"]["email"] for node in data["orders"]["nodes"])
        counts[n] = len(per_row_work(statements))
    assert counts[10] == counts[100]
    # The page with its customers (joined), totalCount, the items with their products (joined), and
    # the inventory levels.
    assert counts[100] == 4, counts


async def test_twenty_concurrent_orders_for_ten_in_stock_never_oversell(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 10)
    mutation = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }"
    variables = {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 1}]}}
    bodies = await asyncio.gather(*[gql.post(mutation, variables) for _ in range(20)])
    results = [b.json() for b in bodies]
    created = [r for r in results if r.get("data") and r["data"]["createOrder"]]
    refused = [r["errors"][0]["extensions"]["code"] for r in results if r.get("errors")]
    assert len(created) == 10
    assert refused == ["INSUFFICIENT_INVENTORY"] * 10
    assert await f.levels(gql, p["id"]) == [{"onHand": 10, "reserved": 10, "available": 0}]


async def test_orders_and_cancels_across_locations_never_deadlock(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, first = await f.stocked_product(gql, 5)
    second = await f.location(gql)
    await f.stock(gql, p["id"], second["id"], 7)
    held = [await f.order(gql, c["id"], [(p["id"], 6)]) for _ in range(2)]  # each spans both locations
    create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }"
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { id } }"
    calls = [gql.post(cancel, {"id": o["id"]}) for o in held] + [
        gql.post(create, {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 6}]}})
        for _ in range(6)]
    results = [r.json() for r in await asyncio.gather(*calls)]
    codes = [r["errors"][0]["extensions"]["code"] for r in results if r.get("errors")]
    assert set(codes) <= {"INSUFFICIENT_INVENTORY"}, codes
    levels = await f.levels(gql, p["id"])
    assert sum(level["onHand"] for level in levels) == 12
    assert sum(level["reserved"] for level in levels) == 6 * (6 - len(codes))


async def test_creating_an_order_costs_the_same_statements_for_1_and_4_lines(gql: GraphQLClient,
                                                                            sql: StatementLog) -> None:
    c = await f.customer(gql)
    products = [(await f.stocked_product(gql, 10))[0] for _ in range(4)]
    second = await f.location(gql)
    await f.stock(gql, products[0]["id"], second["id"], 10)  # one line spans two locations
    mutation = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id items { quantity } } }"
    counts = {}
    for size in (1, 4):
        first_line = 12 if size == 1 else 6  # 12 spans both locations; 6 more then come from the second
        lines = [{"productId": p["id"], "quantity": first_line if i == 0 else 2} for i, p in enumerate(products[:size])]
        with sql.recording() as statements:
            data = await gql(mutation, {"i": {"customerId": c["id"], "items": lines}})
        assert len(data["createOrder"]["items"]) == size
        counts[size] = len(per_row_work(statements))
    assert counts[1] == counts[4], counts
    levels = await f.levels(gql, products[0]["id"])
    assert sorted((lv["onHand"], lv["reserved"]) for lv in levels) == [(10, 8), (10, 10)]
