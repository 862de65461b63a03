"""Build the data a test needs through the public GraphQL API, as a client would."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.graphql_client import GraphQLClient

_seq = itertools.count(1)


async def customer(gql: GraphQLClient, email: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    data = await gql(
        "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id email version } }",
        {"i": {"email": email or f"shopper{n}@example.com", "firstName": "Sam", "lastName": f"Shopper{n}"}},
    )
    return data["createCustomer"]


async def product(gql: GraphQLClient, price: str = "10.00", sku: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    data = await gql(
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { id sku price version } }",
        {"i": {"sku": sku or f"SKU-{n:05d}", "name": f"Thing {n}", "price": price}},
    )
    return data["createProduct"]


async def location(gql: GraphQLClient) -> dict[str, Any]:
    n = next(_seq)
    data = await gql("mutation($i: CreateLocationInput!) { createLocation(input: $i) { id code } }",
                     {"i": {"code": f"WH-{n}", "name": f"Warehouse {n}"}})
    return data["createLocation"]


async def stock(gql: GraphQLClient, product_id: str, location_id: str, delta: int) -> dict[str, Any]:
    data = await gql(
        "mutation($i: AdjustInventoryInput!) { adjustInventory(input: $i) { id onHand reserved available } }",
        {"i": {"productId": product_id, "locationId": location_id, "delta": delta}},
    )
    return data["adjustInventory"]


async def stocked_product(gql: GraphQLClient, quantity: int = 10, price: str = "10.00") -> tuple[dict[str, Any], dict[str, Any]]:
    """A product with `quantity` on hand at a new location: (product, location)."""
    p = await product(gql, price)
    loc = await location(gql)
    await stock(gql, p["id"], loc["id"], quantity)
    return p, loc


ORDER_FIELDS = "id orderNumber status paymentStatus fulfillmentStatus total subtotal version items { id quantity }"


async def order(gql: GraphQLClient, customer_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    data = await gql(
        f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {{ {ORDER_FIELDS} }} }}",
        {"i": {"customerId": customer_id, "items": [{"productId": p, "quantity": q} for p, q in lines]}},
    )
    return data["createOrder"]


async def pay(gql: GraphQLClient, order_id: str, token: str = "tok_visa", capture: bool = True) -> dict[str, Any]:
    """Pay for the order through the test provider (`tok_visa` succeeds); returns the payment."""
    data = await gql(
        "mutation($o: ID!, $i: PayOrderInput!) { payOrder(orderId: $o, input: $i) { id status amount } }",
        {"o": order_id, "i": {"token": token, "capture": capture}},
    )
    return data["payOrder"]


async def levels(gql: GraphQLClient, product_id: str) -> list[dict[str, Any]]:
    data = await gql("query($p: ID!) { product(id: $p) { inventoryLevels { onHand reserved available } } }",
                     {"p": product_id})
    return data["product"]["inventoryLevels"]


async def set_status(gql: GraphQLClient, order_id: str, status: str) -> dict[str, Any]:
    data = await gql(
        "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id status version } }",
        {"id": order_id, "s": status},
    )
    return data["updateOrderStatus"]
