"""The end-to-end scenario over REST only, ending in the state tests/scenario.py expects (the GraphQL
run of the same scenario must end in the very same snapshot)."""

from __future__ import annotations

from stateset_gateway.db.engine import Database
from tests.support import scenario
from tests.support.rest_api import Api


async def test_order_to_restock_over_rest(api: Api, db: Database) -> None:
    customer = await api.ok("POST", "/customers", 201, json=scenario.CUSTOMER)
    product = await api.ok("POST", "/products", 201, json=scenario.PRODUCT)
    location = await api.ok("POST", "/inventory/locations", 201, json=scenario.LOCATION)
    await api.ok("POST", "/inventory/adjust", json={
        "product_id": product["id"], "location_id": location["id"], "delta": scenario.STOCK, "reason": "receipt"})

    order = await api.ok("POST", "/orders", 201, json={
        "customer_id": customer["id"], "items": [{"product_id": product["id"], "quantity": scenario.ORDER_QTY}]})
    await api.ok("POST", f"/orders/{order['id']}/payments", 201, json={"token": scenario.PAYMENT_TOKEN})
    await api.ok("PUT", f"/orders/{order['id']}/status", json={"status": "confirmed", "expected_version": 2})

    shipment = await api.ok("POST", "/shipments", 201, json={
        "order_id": order["id"], "carrier": scenario.CARRIER, "tracking_number": scenario.TRACKING})
    await api.ok("POST", f"/shipments/{shipment['id']}/ship")
    await api.ok("POST", f"/shipments/{shipment['id']}/deliver")

    [line] = await api.ok("GET", f"/orders/{order['id']}/items")
    ret = await api.ok("POST", "/returns", 201, json={
        "order_id": order["id"], "reason": scenario.RETURN_REASON,
        "items": [{"order_item_id": line["id"], "quantity": scenario.RETURN_QTY}]})
    for action in ("approve", "receive", "restock"):
        await api.ok("POST", f"/returns/{ret['id']}/{action}")

    assert await scenario.snapshot(db) == scenario.EXPECTED
    # and what a REST client reads back agrees with the database
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": product["id"]}))["items"]
    assert (level["on_hand"], level["reserved"], level["available"]) == (8, 0, 8)
    assert (await api.ok("GET", f"/orders/{order['id']}"))["status"] == "delivered"
