"""The outbox: each operation writes its events in its own transaction, through REST and GraphQL
alike, with `data` exactly as the REST API shows the resource; a rolled-back operation writes none."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import orjson

from stateset_gateway.db.engine import Database
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient
from tests.support.rest_api import Api
from tests.webhooks.conftest import outbox


class Events:
    """The events written since the last look."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen = 0

    async def new(self) -> list[dict[str, Any]]:
        rows = await outbox(self.db)
        fresh, self.seen = rows[self.seen:], len(rows)
        return [orjson.loads(row.body) for row in fresh]

    async def types(self) -> Counter[str]:
        return Counter(event["type"] for event in await self.new())


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == kind]


async def test_each_event_type_is_emitted_by_its_rest_operation(api: Api, db: Database) -> None:
    events = Events(db)
    customer = await api.customer()
    product = await api.product()
    location = await api.location()
    stocked = await api.ok("POST", "/inventory/adjust", json={"product_id": product["id"], "location_id": location,
                                                              "delta": 12, "reorder_point": 10})
    received = await events.new()
    assert [e["type"] for e in received] == ["inventory.updated"]
    assert received[0]["data"] == stocked  # exactly what REST answered
    assert received[0]["id"].startswith("evt_") and received[0]["created_at"].endswith("Z")

    order = await api.order(customer["id"], product["id"], 3)  # available 12 -> 9: crosses the reorder point
    created = await events.new()
    assert Counter(e["type"] for e in created) == {"order.created": 1, "inventory.updated": 1,
                                                   "inventory.low_stock": 1}
    assert _of(created, "order.created") == [await api.ok("GET", f"/orders/{order['id']}")]  # with its items
    level = _of(created, "inventory.updated")[0]
    assert (level["reserved"], level["available"], level["low_stock"]) == (3, 9, True)

    await api.order(customer["id"], product["id"], 1)  # already low: no second low_stock
    assert await events.types() == {"order.created": 1, "inventory.updated": 1}

    await api.ok("PUT", f"/orders/{order['id']}/status", json={"status": "confirmed"})
    assert await events.types() == {"order.updated": 1}
    await api.ok("PUT", f"/orders/{order['id']}", json={"notes": "leave at the door"})
    updated = await events.new()
    assert [e["type"] for e in updated] == ["order.updated"]
    assert updated[0]["data"]["notes"] == "leave at the door" and updated[0]["data"]["version"] == 3

    shipment = await api.ok("POST", "/shipments", 201, json={"order_id": order["id"], "carrier": "UPS",
                                                             "tracking_number": f"1Z{uuid.uuid4().hex[:10]}"})
    created = await events.new()
    assert [e["type"] for e in created] == ["shipment.created"] and created[0]["data"] == shipment
    shipped = await api.ok("POST", f"/shipments/{shipment['id']}/ship")
    shipping = await events.new()
    assert Counter(e["type"] for e in shipping) == {"shipment.shipped": 1, "order.updated": 1, "inventory.updated": 1}
    assert _of(shipping, "shipment.shipped") == [shipped]
    assert _of(shipping, "order.updated")[0]["status"] == "shipped"
    delivered = await api.ok("POST", f"/shipments/{shipment['id']}/deliver")
    arriving = await events.new()
    assert Counter(e["type"] for e in arriving) == {"shipment.delivered": 1, "order.updated": 1,
                                                    "order.completed": 1}
    assert _of(arriving, "shipment.delivered") == [delivered]
    assert _of(arriving, "order.completed") == [await api.ok("GET", f"/orders/{order['id']}")]

    item = (await api.ok("GET", f"/orders/{order['id']}"))["items"][0]
    ret = await api.ok("POST", "/returns", 201, json={"order_id": order["id"], "reason": "too small",
                                                      "items": [{"order_item_id": item["id"], "quantity": 3}]})
    assert _of(await events.new(), "return.created") == [ret]
    approved = await api.ok("POST", f"/returns/{ret['id']}/approve")
    opened = await events.new()
    assert Counter(e["type"] for e in opened) == {"return.updated": 1, "return.approved": 1}
    assert _of(opened, "return.approved") == [approved]
    await api.ok("POST", f"/returns/{ret['id']}/receive")
    assert await events.types() == {"return.updated": 1}
    await api.ok("POST", f"/returns/{ret['id']}/restock")
    assert await events.types() == {"return.updated": 1, "inventory.updated": 1}
    refunded = await api.ok("POST", f"/returns/{ret['id']}/refund")
    closing = await events.new()
    assert Counter(e["type"] for e in closing) == {"return.updated": 1, "return.completed": 1, "order.updated": 1}
    assert _of(closing, "return.completed") == [refunded]
    assert _of(closing, "order.updated")[0]["payment_status"] == "refunded"

    other = await api.order(customer["id"], product["id"], 1)
    await events.new()
    await api.ok("POST", f"/orders/{other['id']}/cancel", json={"reason": "changed my mind"})
    cancelled = await events.new()
    assert Counter(e["type"] for e in cancelled) == {"order.updated": 1, "order.cancelled": 1, "inventory.updated": 1}
    assert _of(cancelled, "order.cancelled")[0]["status"] == "cancelled"


async def test_each_event_type_is_emitted_by_its_graphql_operation(gql: GraphQLClient, db: Database) -> None:
    events = Events(db)
    customer = await f.customer(gql)
    product, location = await f.stocked_product(gql, 12)
    assert await events.types() == {"inventory.updated": 1}
    order = await f.order(gql, customer["id"], [(product["id"], 3)])
    assert await events.types() == {"order.created": 1, "inventory.updated": 1, "inventory.low_stock": 1}
    await f.set_status(gql, order["id"], "CONFIRMED")
    assert await events.types() == {"order.updated": 1}
    shipment = (await gql("mutation($i: CreateShipmentInput!) { createShipment(input: $i) { id } }",
                          {"i": {"orderId": order["id"], "carrier": "UPS",
                                 "trackingNumber": f"1Z{uuid.uuid4().hex[:10]}"}}))["createShipment"]
    assert await events.types() == {"shipment.created": 1}
    await gql("mutation($id: ID!) { markShipped(id: $id) { id } }", {"id": shipment["id"]})
    assert await events.types() == {"shipment.shipped": 1, "order.updated": 1, "inventory.updated": 1}
    await gql("mutation($id: ID!) { markDelivered(id: $id) { id } }", {"id": shipment["id"]})
    assert await events.types() == {"shipment.delivered": 1, "order.updated": 1, "order.completed": 1}
    items = (await gql("query($id: ID!) { order(id: $id) { items { id } } }", {"id": order["id"]}))["order"]["items"]
    ret = (await gql("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }",
                     {"i": {"orderId": order["id"], "items": [{"orderItemId": items[0]["id"], "quantity": 1}]}}
                     ))["createReturn"]
    assert await events.types() == {"return.created": 1}
    await gql("mutation($id: ID!) { approveReturn(id: $id) { id } }", {"id": ret["id"]})
    assert await events.types() == {"return.updated": 1, "return.approved": 1}
    for step in ("receiveReturn", "restockReturn"):
        await gql(f"mutation($id: ID!) {{ {step}(id: $id) {{ id }} }}", {"id": ret["id"]})
    await events.new()
    await gql("mutation($id: ID!) { refundReturn(id: $id) { id } }", {"id": ret["id"]})
    assert await events.types() == {"return.updated": 1, "return.completed": 1, "order.updated": 1}
    other = await f.order(gql, customer["id"], [(product["id"], 1)])
    await events.new()
    await gql("mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": other["id"]})
    assert await events.types() == {"order.updated": 1, "order.cancelled": 1, "inventory.updated": 1}
    assert location


async def test_a_rolled_back_operation_emits_nothing(api: Api, db: Database) -> None:
    events = Events(db)
    order = await api.stocked_order(quantity=2, on_hand=5)
    product_id = (await api.ok("GET", f"/orders/{order['id']}"))["items"][0]["product_id"]
    await events.new()
    other = await api.product()
    await api.stock(other["id"], 1)
    await events.new()
    lines = [{"product_id": product_id, "quantity": 1}, {"product_id": other["id"], "quantity": 2}]
    await api.error("POST", "/orders", 422, "INSUFFICIENT_INVENTORY",
                    json={"customer_id": order["customer_id"], "items": lines})
    await api.error("PUT", f"/orders/{order['id']}/status", 422, "INVALID_STATUS_TRANSITION",
                    json={"status": "delivered"})
    await api.error("PUT", f"/orders/{order['id']}", 409, "VERSION_CONFLICT",
                    json={"notes": "x", "expected_version": 99})
    assert await events.new() == []
