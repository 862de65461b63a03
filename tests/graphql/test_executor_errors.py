"""Field errors below the root, as a client sees them, from both executors (the `client` of
tests/graphql compares every answer with graphql-core's): a nullable field that fails is null with
an error at each of its paths; a non-null one nulls its nearest nullable parent."""

from __future__ import annotations

from typing import Any

import pytest

from stateset_gateway.db.models import Customer, OrderItem
from stateset_gateway.resolvers import loaders
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient

ORDERS = "{ orders { nodes { orderNumber customer { email } items { quantity } } } }"


@pytest.fixture
async def two_orders(gql: GraphQLClient) -> list[dict[str, Any]]:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 10)
    return [await f.order(gql, c["id"], [(p["id"], 1)]) for _ in range(2)]


async def test_a_failing_nullable_relation_is_null_with_an_error_at_each_path(
    gql: GraphQLClient, two_orders: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_id = loaders.by_id

    async def broken(db: Any, model: Any, keys: Any) -> Any:
        if model is Customer:
            raise RuntimeError("customers are unreachable")
        return await by_id(db, model, keys)

    monkeypatch.setattr(loaders, "by_id", broken)
    # Loaded by a statement of its own, not read with the orders (schema/execution/joins.py).
    monkeypatch.delattr(loaders.customers, "joins")
    body = (await gql.post("{ orders { nodes { orderNumber customer { email } } } }")).json()
    assert [node["customer"] for node in body["data"]["orders"]["nodes"]] == [None, None]
    assert sorted(e["path"][2] for e in body["errors"]) == [0, 1]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTERNAL_ERROR"}


async def test_a_failing_non_null_relation_nulls_its_nearest_nullable_parent(
    gql: GraphQLClient, two_orders: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    grouped_by = loaders.grouped_by

    async def broken(db: Any, column: Any, keys: Any, *order_by: Any, **fields: Any) -> Any:
        if column is OrderItem.order_id:
            raise RuntimeError("order items are unreachable")
        return await grouped_by(db, column, keys, *order_by, **fields)

    monkeypatch.setattr(loaders, "grouped_by", broken)
    monkeypatch.delattr(loaders.items_by_order, "groups")  # loaded, not read in the order's statement
    # items: [OrderItem!]! in nodes: [Order!]! in orders: OrderConnection!, the root: data is null
    body = (await gql.post(ORDERS)).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    one = (await gql.post("query($id: ID!) { order(id: $id) { orderNumber items { quantity } } }",
                          {"id": two_orders[0]["id"]})).json()
    assert one["data"] == {"order": None} and one["errors"][0]["path"] == ["order", "items"]


async def test_a_nested_page_argument_error_is_reported_at_each_parent(
    gql: GraphQLClient, two_orders: list[dict[str, Any]]
) -> None:
    too_many = "{ orders { nodes { customer { email orders(first: 1000) { totalCount } } } } }"
    body = (await gql.post(too_many)).json()
    assert [node["customer"]["orders"] for node in body["data"]["orders"]["nodes"]] == [None, None]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION_ERROR"] * 2
    paged = (await gql.post("{ customers { nodes { orders(first: 1) { totalCount pageInfo { hasNextPage } "
                            "edges { cursor node { orderNumber } } } } } }")).json()
    page = paged["data"]["customers"]["nodes"][0]["orders"]
    assert page["totalCount"] == 2 and page["pageInfo"] == {"hasNextPage": True} and len(page["edges"]) == 1


async def test_skip_and_include_follow_the_variables(
    gql: GraphQLClient, two_orders: list[dict[str, Any]]
) -> None:
    query = ("query($c: Boolean!, $i: Boolean!) { orders { nodes { ... on Order { customer @include(if: $c) "
             "{ email } } ...lines @skip(if: $i) } } } fragment lines on Order { items { quantity } }")
    for c, i in ((True, True), (False, False), (True, False)):
        node = (await gql(query, {"c": c, "i": i}))["orders"]["nodes"][0]
        assert set(node) == ({"customer"} if c else set()) | (set() if i else {"items"})

