"""Settings reach the operations through the transports: the GraphQL page limits, the default
currency and the return window, each seen the same over REST and GraphQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stateset_gateway.config import Settings, load_settings
from tests.support.graphql_client import GraphQLClient
from tests.support.rest_api import Api


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, graphql={"default_page_size": 2, "max_page_size": 3},
                         business={"default_currency": "EUR", "return_window_days": 0})


@pytest.fixture
def gql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> GraphQLClient:
    return GraphQLClient(client, admin_headers)


async def test_graphql_pages_are_sized_by_the_graphql_settings(api: Api, gql: GraphQLClient) -> None:
    for _ in range(4):
        await api.product()
    first = await gql("{ products { nodes { id } pageInfo { hasNextPage } } }")
    assert len(first["products"]["nodes"]) == 2 and first["products"]["pageInfo"]["hasNextPage"] is True
    assert len((await gql("{ products(first: 3) { nodes { id } } }"))["products"]["nodes"]) == 3
    too_many = await gql.error("{ products(first: 4) { nodes { id } } }")
    assert too_many["extensions"]["details"] == {"first": ["Must be between 0 and 3"]}
    assert (await api.ok("GET", "/products", params={"limit": 4}))["limit"] == 4, "REST pages are not GraphQL's"


async def test_an_order_of_mixed_currencies_is_priced_in_the_default_currency(api: Api, gql: GraphQLClient) -> None:
    customer = await api.customer()
    usd = await api.product()
    gbp = await api.ok("POST", "/products", 201, json={"sku": "GBP-1", "name": "Tea", "price": "3.00",
                                                        "currency": "GBP"})
    for product in (usd, gbp):
        await api.stock(product["id"], 5)
    items = [{"product_id": usd["id"], "quantity": 1}, {"product_id": gbp["id"], "quantity": 1}]
    error = await api.error("POST", "/orders", 400, "VALIDATION_ERROR",
                            json={"customer_id": customer["id"], "items": items})
    assert error["details"] == {"currency": ["All products must be priced in EUR"]}
    refused = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }", {"i": {
        "customerId": customer["id"], "items": [{"productId": i["product_id"], "quantity": 1} for i in items]}})
    assert refused["extensions"]["details"] == {"currency": ["All products must be priced in EUR"]}


async def test_the_return_window_is_the_configured_one(api: Api, gql: GraphQLClient) -> None:
    order = await api.stocked_order()
    shipment = await api.ok("POST", "/shipments", 201, json={"order_id": order["id"], "carrier": "UPS",
                                                             "tracking_number": "1ZWINDOW0"})
    await api.ok("POST", f"/shipments/{shipment['id']}/ship")
    await api.ok("POST", f"/shipments/{shipment['id']}/deliver")
    order = await api.ok("GET", f"/orders/{order['id']}")
    line: dict[str, Any] = {"order_item_id": order["items"][0]["id"], "quantity": 1}
    error = await api.error("POST", "/returns", 422, "RETURN_WINDOW_EXPIRED",
                            json={"order_id": order["id"], "items": [line]})
    assert error["details"]["return_window_days"] == 0
    refused = await gql.error("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }", {"i": {
        "orderId": order["id"], "items": [{"orderItemId": line["order_item_id"], "quantity": 1}]}})
    assert refused["extensions"]["code"] == "RETURN_WINDOW_EXPIRED"
    assert refused["extensions"]["details"]["return_window_days"] == 0
