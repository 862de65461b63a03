"""A subscriber to orderUpdated sees each committed state of its order, in order, whichever
transport made the change; a caller without orders:read cannot subscribe."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.subscriptions.conftest import Gateway, Socket
from tests.support.auth import AuthHeaders

ORDER_UPDATED = "subscription($id: ID!) { orderUpdated(id: $id) { id status version total items { sku quantity } } }"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


async def stocked_order(http: httpx.AsyncClient) -> dict[str, Any]:
    """A pending order of two units of a freshly stocked product, made over REST."""
    customer = await ok(await http.post("/api/v1/customers", json={"email": f"c-{uuid.uuid4().hex[:8]}@example.com",
                                                                    "first_name": "Ada", "last_name": "Lee"}), 201)
    product = await ok(await http.post("/api/v1/products", json={"sku": f"SKU-{uuid.uuid4().hex[:8]}",
                                                                  "name": "Trail Pack", "price": "20.00"}), 201)
    location = await ok(await http.post("/api/v1/inventory/locations",
                                        json={"code": f"WH-{uuid.uuid4().hex[:6]}", "name": "Main"}), 201)
    await ok(await http.post("/api/v1/inventory/adjust", json={"product_id": product["id"], "location_id": location["id"],
                                                                "delta": 10, "reason": "receipt"}))
    return await ok(await http.post("/api/v1/orders", json={"customer_id": customer["id"],
                                                             "items": [{"product_id": product["id"], "quantity": 2}]}), 201)


async def graphql(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def subscribed(gateway: Gateway, sockets: Any, headers: dict[str, str], order_id: str) -> Socket:
    socket = await sockets(gateway.ws)
    await socket.init(headers)
    await socket.subscribe("1", ORDER_UPDATED, {"id": order_id})
    assert socket.pending == []
    return socket


def statuses(payloads: list[dict[str, Any]]) -> list[str]:
    return [p["data"]["orderUpdated"]["status"] for p in payloads]


async def test_order_updated_over_rest_transitions(gateway: Gateway, http: httpx.AsyncClient, sockets: Any,
                                                   admin_headers: dict[str, str]) -> None:
    order = await stocked_order(http)
    socket = await subscribed(gateway, sockets, admin_headers, order["id"])

    for status in ("confirmed", "processing"):
        await ok(await http.put(f"/api/v1/orders/{order['id']}/status", json={"status": status}))
    shipment = await ok(await http.post("/api/v1/shipments", json={"order_id": order["id"], "carrier": "UPS",
                                                                    "tracking_number": "1Z999"}), 201)
    await ok(await http.post(f"/api/v1/shipments/{shipment['id']}/ship"))
    await ok(await http.post(f"/api/v1/shipments/{shipment['id']}/deliver"))
    final = await ok(await http.get(f"/api/v1/orders/{order['id']}"))

    payloads = await socket.next_payloads("1", 4)
    assert statuses(payloads) == ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]
    versions = [p["data"]["orderUpdated"]["version"] for p in payloads]
    assert versions == sorted(versions) and len(set(versions)) == 4 and versions[-1] == final["version"]
    assert [item["quantity"] for item in payloads[0]["data"]["orderUpdated"]["items"]] == [2]
    assert all("errors" not in p for p in payloads)


async def test_order_updated_over_graphql_transitions_sent_back_to_back(
        gateway: Gateway, http: httpx.AsyncClient, sockets: Any, admin_headers: dict[str, str]) -> None:
    """Every payload is the order as its own commit left it, not a later re-read: all four changes
    are made before the subscriber reads anything, and it still sees each state."""
    order = await stocked_order(http)
    socket = await subscribed(gateway, sockets, admin_headers, order["id"])

    set_status = "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { status } }"
    await graphql(http, set_status, {"id": order["id"], "s": "CONFIRMED"})
    await graphql(http, set_status, {"id": order["id"], "s": "PROCESSING"})
    shipment = (await graphql(http, "mutation($i: CreateShipmentInput!) { createShipment(input: $i) { id } }",
                              {"i": {"orderId": order["id"], "carrier": "UPS", "trackingNumber": "1Z42"}}))
    shipment_id = shipment["createShipment"]["id"]
    await graphql(http, "mutation($id: ID!) { markShipped(id: $id) { status } }", {"id": shipment_id})
    await graphql(http, "mutation($id: ID!) { markDelivered(id: $id) { status } }", {"id": shipment_id})

    assert statuses(await socket.next_payloads("1", 4)) == ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"]


async def test_only_the_subscribed_order_is_seen(gateway: Gateway, http: httpx.AsyncClient, sockets: Any,
                                                 admin_headers: dict[str, str]) -> None:
    mine, other = await stocked_order(http), await stocked_order(http)
    socket = await subscribed(gateway, sockets, admin_headers, mine["id"])
    await ok(await http.put(f"/api/v1/orders/{other['id']}/status", json={"status": "confirmed"}))
    await ok(await http.post(f"/api/v1/orders/{mine['id']}/cancel", json={"reason": "changed my mind"}))
    [payload] = await socket.next_payloads("1", 1)
    assert payload["data"]["orderUpdated"]["id"] == mine["id"]
    assert payload["data"]["orderUpdated"]["status"] == "CANCELLED"


async def test_a_caller_without_orders_read_cannot_subscribe(gateway: Gateway, http: httpx.AsyncClient,
                                                             sockets: Any, auth_headers: AuthHeaders) -> None:
    order = await stocked_order(http)
    socket = await sockets(gateway.ws)
    await socket.init(await auth_headers(["inventory:read"]))
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": ORDER_UPDATED,
                                                                   "variables": {"id": order["id"]}}})
    refused = await socket.receive()
    assert refused["type"] == "error" and refused["id"] == "1"
    [error] = refused["payload"]
    assert error["extensions"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert error["extensions"]["required_permission"] == "orders:read"
    # the socket stays usable for what the key may read
    await socket.subscribe("2", "subscription { inventoryChanged { available } }")
    assert socket.pending == []


async def test_nested_relations_need_their_own_permission(gateway: Gateway, http: httpx.AsyncClient,
                                                          sockets: Any, auth_headers: AuthHeaders) -> None:
    order = await stocked_order(http)
    socket = await sockets(gateway.ws)
    await socket.init(await auth_headers(["orders:read"]))
    await socket.subscribe("1", "subscription($id: ID!) { orderUpdated(id: $id) { status customer { email } } }",
                           {"id": order["id"]})
    await ok(await http.put(f"/api/v1/orders/{order['id']}/status", json={"status": "confirmed"}))
    [payload] = await socket.next_payloads("1", 1)
    assert payload["data"] == {"orderUpdated": {"status": "CONFIRMED", "customer": None}}
    assert payload["errors"][0]["extensions"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert payload["errors"][0]["path"] == ["orderUpdated", "customer"]


async def test_order_events_inventory_and_shipments(gateway: Gateway, http: httpx.AsyncClient, sockets: Any,
                                                   admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init(admin_headers)
    await socket.subscribe("created", "subscription { orderEvents(status: [PENDING]) { status total } }")
    await socket.subscribe("stock", "subscription { inventoryChanged(lowStockOnly: false) { available reserved } }")
    order = await stocked_order(http)
    await socket.subscribe("ships", "subscription($o: ID) { shipmentUpdated(orderId: $o) { status carrier } }",
                           {"o": order["id"]})
    received = list(socket.pending)
    await ok(await http.post("/api/v1/shipments", json={"order_id": order["id"], "carrier": "DHL",
                                                         "tracking_number": "JD1"}), 201)
    while not any(m["id"] == "ships" for m in received if m["type"] == "next"):
        message = await socket.receive()
        if message["type"] == "next":
            received.append(message)
    by_id: dict[str, list[Any]] = {}
    for message in received:
        by_id.setdefault(message["id"], []).append(message["payload"]["data"])
    assert by_id["created"] == [{"orderEvents": {"status": "PENDING", "total": order["total"]}}]
    # stocked (10 available), then reserved by the order (8 available, 2 reserved)
    assert by_id["stock"][:2] == [{"inventoryChanged": {"available": 10, "reserved": 0}},
                                  {"inventoryChanged": {"available": 8, "reserved": 2}}]
    assert by_id["ships"] == [{"shipmentUpdated": {"status": "PENDING", "carrier": "DHL"}}]
