"""Every allowed and every refused move of the order, return and shipment machines, as a REST client
sees them: an allowed move answers 200 with the new status and the next version; a refused one 422
INVALID_STATUS_TRANSITION with {from, to, allowed}, or ORDER_ALREADY_FULFILLED when cancelling a
shipped or delivered order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from stateset_gateway.config import Settings, load_settings
from tests.support.machines import ORDER_MOVES, RETURN_MOVES
from tests.support.rest_api import Api

# How to bring a new (pending) order to each status.
ORDER_PATHS = {
    "pending": [],
    "confirmed": ["confirmed"],
    "processing": ["processing"],
    "on_hold": ["on_hold"],
    "shipped": ["processing", "shipped"],
    "delivered": ["processing", "shipped", "delivered"],
    "cancelled": ["cancelled"],
    "exchanged": ["processing", "shipped", "delivered", "exchanged"],
    "refunded": ["cancelled", "refunded"],
}
RETURN_ACTIONS = {"approved": "approve", "rejected": "reject", "received": "receive", "restocked": "restock",
                  "refunded": "refund"}
RETURN_PATHS = {
    "requested": [],
    "approved": ["approved"],
    "rejected": ["rejected"],
    "received": ["approved", "received"],
    "restocked": ["approved", "received", "restocked"],
    "refunded": ["approved", "received", "restocked", "refunded"],
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """These walks make more writes than one client may make in a minute."""
    return load_settings(database_url=database_url, rate_limit="off")


async def _set_status(api: Api, order_id: str, status: str) -> dict[str, Any]:
    return await api.ok("PUT", f"/orders/{order_id}/status", json={"status": status})  # type: ignore[no-any-return]


async def test_every_order_move(api: Api) -> None:
    customer = await api.customer()
    product = await api.product()
    await api.stock(product["id"], 100)

    async def order_in(status: str) -> dict[str, Any]:
        order = await api.order(customer["id"], product["id"])
        for step in ORDER_PATHS[status]:
            order = await _set_status(api, order["id"], step)
        assert order["status"] == status
        return order

    for current, allowed in ORDER_MOVES.items():
        refusing = await api.ok("GET", f"/orders/{(await order_in(current))['id']}")
        for target in ORDER_MOVES:
            if target in allowed:
                order = await order_in(current)
                moved = await _set_status(api, order["id"], target)
                assert (moved["status"], moved["version"]) == (target, order["version"] + 1), (current, target)
                continue
            if target == "cancelled" and current in ("shipped", "delivered"):
                await api.error("PUT", f"/orders/{refusing['id']}/status", 422, "ORDER_ALREADY_FULFILLED",
                                json={"status": target})
                continue
            error = await api.error("PUT", f"/orders/{refusing['id']}/status", 422, "INVALID_STATUS_TRANSITION",
                                    json={"status": target})
            assert error["details"] == {"from": current, "to": target, "allowed": sorted(allowed)}
        assert await api.ok("GET", f"/orders/{refusing['id']}") == refusing, "refused moves change nothing"


async def _delivered_order(api: Api, quantity: int) -> dict[str, Any]:
    order = await api.stocked_order(quantity=quantity, on_hand=quantity)
    await api.pay(order["id"])
    shipment = await api.ok("POST", "/shipments", 201, json={
        "order_id": order["id"], "carrier": "UPS", "tracking_number": f"1Z{uuid.uuid4().hex[:12]}"})
    await api.ok("POST", f"/shipments/{shipment['id']}/ship")
    await api.ok("POST", f"/shipments/{shipment['id']}/deliver")
    return await api.ok("GET", f"/orders/{order['id']}")  # type: ignore[no-any-return]


async def test_every_return_move(api: Api) -> None:
    order = await _delivered_order(api, quantity=12)  # one unit per return below

    async def return_in(status: str) -> dict[str, Any]:
        ret = await api.ok("POST", "/returns", 201, json={
            "order_id": order["id"], "items": [{"order_item_id": order["items"][0]["id"], "quantity": 1}]})
        for step in RETURN_PATHS[status]:
            ret = await api.ok("POST", f"/returns/{ret['id']}/{RETURN_ACTIONS[step]}")
        assert ret["status"] == status
        return ret  # type: ignore[no-any-return]

    for current, allowed in RETURN_MOVES.items():
        refusing = await return_in(current)
        for target, action in RETURN_ACTIONS.items():
            if target in allowed:
                ret = await return_in(current)
                moved = await api.ok("POST", f"/returns/{ret['id']}/{action}")
                assert (moved["status"], moved["version"]) == (target, ret["version"] + 1), (current, target)
                continue
            error = await api.error("POST", f"/returns/{refusing['id']}/{action}", 422, "INVALID_STATUS_TRANSITION")
            assert error["details"] == {"from": current, "to": target, "allowed": sorted(allowed)}
        assert await api.ok("GET", f"/returns/{refusing['id']}") == refusing, "refused moves change nothing"


async def test_every_shipment_move(api: Api) -> None:
    order = await api.stocked_order()
    first, second = [await api.ok("POST", "/shipments", 201, json={
        "order_id": order["id"], "carrier": "UPS", "tracking_number": f"1Z{uuid.uuid4().hex[:12]}"})
        for _ in range(2)]

    async def refused(shipment: dict[str, Any], action: str, details: dict[str, Any]) -> None:
        error = await api.error("POST", f"/shipments/{shipment['id']}/{action}", 422, "INVALID_STATUS_TRANSITION")
        assert error["details"] == details

    await refused(first, "deliver", {"from": "pending", "to": "delivered", "allowed": ["shipped"]})
    shipped = await api.ok("POST", f"/shipments/{first['id']}/ship")
    assert (shipped["status"], shipped["version"]) == ("shipped", first["version"] + 1)
    assert shipped["shipped_at"] is not None
    await refused(first, "ship", {"from": "shipped", "to": "shipped", "allowed": ["delivered"]})
    assert (await api.ok("POST", f"/shipments/{second['id']}/ship"))["status"] == "shipped"  # a second parcel
    delivered = await api.ok("POST", f"/shipments/{first['id']}/deliver")
    assert (delivered["status"], delivered["version"]) == ("delivered", shipped["version"] + 1)
    assert delivered["delivered_at"] is not None
    await refused(first, "ship", {"from": "delivered", "to": "shipped", "allowed": []})
    await refused(first, "deliver", {"from": "delivered", "to": "delivered", "allowed": []})
    assert await api.ok("GET", f"/shipments/{first['id']}") == delivered
    assert (await api.ok("GET", f"/orders/{order['id']}"))["status"] == "delivered"
