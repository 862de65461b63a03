"""What the REST routes answer (resolvers/representations.py, also the `data` of webhook events) is
exactly what their documented models describe: each answer validates against its model and dumps
back to itself, so the OpenAPI document and the responses cannot drift apart."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel

from stateset_gateway.rest_compat import models
from tests.support.rest_api import Api


def documented(model: type[BaseModel], data: dict[str, Any]) -> None:
    assert model.model_validate(data).model_dump(mode="json") == data
    assert set(data) == set(model.model_fields)


async def test_every_representation_is_its_documented_model(api: Api) -> None:
    order = await api.delivered_order()  # GET /orders/{id}: with its items
    documented(models.OrderOut, order)
    assert order["items"] and order["shipping_address"] is None
    documented(models.OrderItemOut, order["items"][0])
    listed = (await api.ok("GET", "/orders", params={"include_items": "false"}))["items"][0]
    documented(models.OrderOut, listed)
    assert listed["items"] is None

    addressed = await api.ok("PUT", f"/orders/{(await api.stocked_order())['id']}", json={
        "shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}})
    documented(models.OrderOut, addressed)
    assert addressed["shipping_address"] == {"line1": "1 Main St", "line2": None, "city": "Springfield",
                                             "region": None, "postal_code": "12345", "country": "US"}

    documented(models.CustomerOut, (await api.ok("GET", "/customers"))["items"][0])
    documented(models.ProductOut, (await api.ok("GET", "/products"))["items"][0])
    level = (await api.ok("GET", "/inventory"))["items"][0]
    documented(models.InventoryLevelOut, level)
    assert level["available"] == level["on_hand"] - level["reserved"]
    documented(models.LocationOut, (await api.ok("GET", "/inventory/locations"))[0])
    documented(models.ReservationOut, (await api.ok("GET", "/inventory/reservations"))["items"][0])
    documented(models.ShipmentOut, (await api.ok("GET", "/shipments"))["items"][0])
    ret = await api.ok("POST", "/returns", 201, json={"order_id": order["id"], "items": [
        {"order_item_id": order["items"][0]["id"], "quantity": 1}]})
    documented(models.ReturnOut, ret)

    hook = await api.ok("POST", "/webhooks", 201, json={"url": f"https://example.com/{uuid.uuid4().hex}"})
    documented(models.WebhookSecretOut, hook)
    documented(models.WebhookOut, await api.ok("GET", f"/webhooks/{hook['id']}"))
    await api.ok("POST", f"/webhooks/{hook['id']}/test", 202)
    documented(models.DeliveryOut, (await api.ok("GET", "/admin/webhooks/logs"))["items"][0])
