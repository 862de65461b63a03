"""The end-to-end scenario over GraphQL: it must end in the very state the REST run ends in."""

from __future__ import annotations

from stateset_gateway.db.engine import Database
from tests.support import scenario
from tests.support.graphql_client import GraphQLClient


async def test_order_to_restock_over_graphql(gql: GraphQLClient, db: Database) -> None:
    c = scenario.CUSTOMER
    customer = (await gql("mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }",
                          {"i": {"email": c["email"], "firstName": c["first_name"], "lastName": c["last_name"]}}))
    product = await gql("mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }", {"i": scenario.PRODUCT})
    location = await gql("mutation($i: CreateLocationInput!) { createLocation(input: $i) { id } }",
                         {"i": scenario.LOCATION})
    product_id = product["createProduct"]["id"]
    await gql("mutation($i: AdjustInventoryInput!) { adjustInventory(input: $i) { id } }", {"i": {
        "productId": product_id, "locationId": location["createLocation"]["id"], "delta": scenario.STOCK,
        "reason": "receipt"}})

    order = (await gql("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id items { id } } }", {"i": {
        "customerId": customer["createCustomer"]["id"],
        "items": [{"productId": product_id, "quantity": scenario.ORDER_QTY}]}}))["createOrder"]
    await gql("mutation($o: ID!, $i: PayOrderInput!) { payOrder(orderId: $o, input: $i) { id } }",
              {"o": order["id"], "i": {"token": scenario.PAYMENT_TOKEN}})
    await gql("mutation($id: ID!) { updateOrderStatus(id: $id, status: CONFIRMED, expectedVersion: 2) { id } }",
              {"id": order["id"]})

    shipment = (await gql("mutation($i: CreateShipmentInput!) { createShipment(input: $i) { id } }", {"i": {
        "orderId": order["id"], "carrier": scenario.CARRIER, "trackingNumber": scenario.TRACKING}}))["createShipment"]
    await gql("mutation($id: ID!) { markShipped(id: $id) { id } }", {"id": shipment["id"]})
    await gql("mutation($id: ID!) { markDelivered(id: $id) { id } }", {"id": shipment["id"]})

    ret = (await gql("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }", {"i": {
        "orderId": order["id"], "reason": scenario.RETURN_REASON,
        "items": [{"orderItemId": order["items"][0]["id"], "quantity": scenario.RETURN_QTY}]}}))["createReturn"]
    for mutation in ("approveReturn", "receiveReturn", "restockReturn"):
        await gql(f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}", {"id": ret["id"]})

    assert await scenario.snapshot(db) == scenario.EXPECTED
