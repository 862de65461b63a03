"""/api/v1/shipments and /api/v1/returns over HTTP: shipping consumes stock, delivery opens the return
window, returns move requested -> approved|rejected -> received -> restocked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order
from stateset_gateway.db.types import utcnow
from tests.support.rest_api import Api


async def test_shipment_lifecycle(api: Api) -> None:
    order = await api.stocked_order(quantity=3, on_hand=10)
    [line] = (await api.ok("GET", f"/orders/{order['id']}"))["items"]
    shipment = await api.ok("POST", "/shipments", 201,
                            json={"order_id": order["id"], "carrier": "UPS", "tracking_number": "1Z999"})
    assert (shipment["status"], shipment["shipped_at"]) == ("pending", None)
    error = await api.error("POST", "/shipments", 409, "DUPLICATE_ENTRY",
                            json={"order_id": order["id"], "carrier": "UPS", "tracking_number": "1Z999"})
    assert error["details"] == {"field": "tracking_number", "value": "1Z999"}
    error = await api.error("POST", f"/shipments/{shipment['id']}/deliver", 422, "INVALID_STATUS_TRANSITION")
    assert error["details"] == {"from": "pending", "to": "delivered", "allowed": ["shipped"]}

    shipped = await api.ok("POST", f"/shipments/{shipment['id']}/ship")
    assert shipped["status"] == "shipped" and shipped["shipped_at"].endswith("Z")
    assert (await api.ok("GET", f"/orders/{order['id']}"))["status"] == "shipped"
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": line["product_id"]}))["items"]
    assert (level["on_hand"], level["reserved"]) == (7, 0)
    await api.error("POST", f"/shipments/{shipment['id']}/ship", 422, "INVALID_STATUS_TRANSITION")

    delivered = await api.ok("POST", f"/shipments/{shipment['id']}/deliver")
    assert delivered["status"] == "delivered"
    assert (await api.ok("GET", f"/orders/{order['id']}"))["delivered_at"] is not None
    assert (await api.ok("GET", "/shipments/track/1Z999"))["id"] == shipment["id"]
    assert await api.ok("GET", f"/shipments/{shipment['id']}") == delivered
    await api.error("GET", "/shipments/track/NOPE", 404, "NOT_FOUND")
    listed = await api.ok("GET", "/shipments", params={"order_id": order["id"], "status": "delivered"})
    assert [s["id"] for s in listed["items"]] == [shipment["id"]]
    assert (await api.ok("GET", "/shipments", params={"status": "pending"}))["total"] == 0


async def test_shipping_a_cancelled_order_is_refused(api: Api) -> None:
    order = await api.stocked_order()
    await api.ok("POST", f"/orders/{order['id']}/cancel")
    error = await api.error("POST", "/shipments", 422, "INVALID_STATUS_TRANSITION",
                            json={"order_id": order["id"], "carrier": "DHL", "tracking_number": "JD1"})
    assert error["details"]["from"] == "cancelled" and error["details"]["to"] == "shipped"


async def request_return(api: Api, order: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    return await api.ok("POST", "/returns", 201, json={
        "order_id": order["id"], "reason": "too small",
        "items": [{"order_item_id": order["items"][0]["id"], "quantity": quantity}]})


async def test_return_lifecycle_and_out_of_order_steps(api: Api) -> None:
    order = await api.delivered_order()
    ret = await request_return(api, order)
    assert (ret["status"], ret["refund_amount"], ret["order_id"]) == ("requested", "149.99", order["id"])
    error = await api.error("POST", f"/returns/{ret['id']}/restock", 422, "INVALID_STATUS_TRANSITION")
    assert error["details"] == {"from": "requested", "to": "restocked", "allowed": ["approved", "rejected"]}
    for action, status in (("approve", "approved"), ("receive", "received"), ("restock", "restocked")):
        ret = await api.ok("POST", f"/returns/{ret['id']}/{action}")
        assert ret["status"] == status
    assert await api.ok("GET", f"/returns/{ret['id']}") == ret
    listed = await api.ok("GET", "/returns", params={"order_id": order["id"], "status": "restocked"})
    assert [r["id"] for r in listed["items"]] == [ret["id"]]
    error = await api.error("POST", "/returns", 400, "VALIDATION_ERROR", json={
        "order_id": order["id"], "items": [{"order_item_id": order["items"][0]["id"], "quantity": 2}]})
    assert error["details"] == {"items.0.quantity": ["At most 1 can be returned"]}


async def test_rejected_return_cannot_be_received(api: Api) -> None:
    order = await api.delivered_order()
    ret = await request_return(api, order)
    assert (await api.ok("POST", f"/returns/{ret['id']}/reject"))["status"] == "rejected"
    error = await api.error("POST", f"/returns/{ret['id']}/receive", 422, "INVALID_STATUS_TRANSITION")
    assert error["details"] == {"from": "rejected", "to": "received", "allowed": []}
    await api.error("POST", "/returns/0b6f2a3c-0000-4000-8000-000000000000/approve", 404, "NOT_FOUND")


async def test_return_of_undelivered_order_is_refused(api: Api) -> None:
    order = await api.stocked_order()
    error = await api.error("POST", "/returns", 400, "VALIDATION_ERROR", json={
        "order_id": order["id"], "items": [{"order_item_id": order["id"], "quantity": 1}]})
    assert list(error["details"]) == ["order_id"]


async def test_return_after_the_window_is_expired(api: Api, db: Database) -> None:
    order = await api.delivered_order()
    async with db.writer() as session:  # delivered 31 days ago; the default window is 30 days
        await session.execute(update(Order).where(Order.id == uuid.UUID(order["id"]))
                              .values(delivered_at=utcnow() - timedelta(days=31)))
    error = await api.error("POST", "/returns", 422, "RETURN_WINDOW_EXPIRED", json={
        "order_id": order["id"], "items": [{"order_item_id": order["items"][0]["id"], "quantity": 1}]})
    assert error["details"]["return_window_days"] == 30
    assert (await api.ok("GET", "/returns"))["total"] == 0


async def test_restocked_return_is_refunded_over_rest(api: Api) -> None:
    order = await api.delivered_order()
    ret = await request_return(api, order, quantity=sum(item["quantity"] for item in order["items"]))
    for action in ("approve", "receive", "restock", "refund"):
        ret = await api.ok("POST", f"/returns/{ret['id']}/{action}")
    assert ret["status"] == "refunded"
    refunded = await api.ok("GET", f"/orders/{order['id']}")
    assert (refunded["status"], refunded["payment_status"]) == ("refunded", "refunded")
