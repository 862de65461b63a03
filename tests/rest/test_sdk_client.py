"""StateSet's published Python SDK (`stateset-python` 1.2.0), unmodified, against a live gateway's
/api/v1 over real HTTP: it sends its key as `Authorization: Bearer sk_...` and calls the paths of
StateSet's API, some of which are aliases here (`rest_compat/sdk_aliases.py`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from stateset import (
    Stateset,
    StatesetAuthenticationError,
    StatesetError,
    StatesetNotFoundError,
    StatesetPermissionError,
    StatesetRateLimitError,
)
from stateset.client import RetryConfig

from stateset_gateway.app import create_app
from stateset_gateway.config import Settings, load_settings
from tests.support.auth import AuthHeaders

NO_RETRIES = RetryConfig(max_attempts=0)  # the SDK retries 409 and 429 with back-off by default


@asynccontextmanager
async def live_gateway(settings: Settings) -> AsyncIterator[str]:
    """A gateway served by uvicorn on a free loopback port; yields its /api/v1 base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the gateway did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.should_exit = True
        await serving


SDKFactory = Callable[..., Awaitable[Stateset]]


@pytest.fixture
async def sdk(settings: Settings, auth_headers: AuthHeaders) -> AsyncIterator[SDKFactory]:
    """`await sdk(["orders:read"])`: the SDK holding a fresh key with these permissions, on a live gateway."""
    async with live_gateway(settings) as base_url:
        clients: list[Stateset] = []

        async def make(permissions: list[str], key: str | None = None) -> Stateset:
            key = key or (await auth_headers(permissions))["X-API-Key"]
            clients.append(Stateset(api_key=key, base_url=base_url, retry_config=NO_RETRIES))
            return clients[-1]

        yield make
        for client in clients:
            await client.aclose()


def data(envelope: Any) -> Any:
    assert envelope["success"] is True
    return envelope["data"]


async def stocked_catalogue(client: Stateset) -> tuple[str, str]:
    """(customer id, product id) with 10 in stock, made through the SDK's raw requests."""
    customer = data(await client.request("POST", "customers", {"email": "ada@example.com", "first_name": "Ada",
                                                                "last_name": "Lovelace"}))
    product = data(await client.request("POST", "products", {"sku": "SDK-1", "name": "Widget", "price": "12.50"}))
    location = data(await client.request("POST", "inventory/locations", {"code": "MAIN", "name": "Main"}))
    await client.request("POST", "inventory/adjust", {"product_id": product["id"], "location_id": location["id"],
                                                      "delta": 10})
    return customer["id"], product["id"]


async def test_the_sdk_drives_orders_shipments_returns_and_inventory(sdk: SDKFactory) -> None:
    client = await sdk(["admin:*"])
    customer_id, product_id = await stocked_catalogue(client)

    created = data(await client.orders.create({"customer_id": customer_id,
                                               "items": [{"product_id": product_id, "quantity": 2}]}))
    assert created["status"] == "pending" and created["total"] == "25.00"
    order_id = created["id"]
    assert data(await client.orders.get(order_id))["order_number"] == created["order_number"]
    listed = data(await client.orders.list(status="pending"))
    assert [o["id"] for o in listed["items"]] == [order_id]
    updated = data(await client.orders.update(order_id, {"notes": "leave at the door"}))
    assert updated["notes"] == "leave at the door"
    found = data(await client.orders.search(query=created["order_number"]))
    assert [o["id"] for o in found["items"]] == [order_id] and found["total"] == 1

    doomed = data(await client.orders.create({"customer_id": customer_id,
                                              "items": [{"product_id": product_id, "quantity": 1}]}))
    assert data(await client.orders.cancel(doomed["id"], reason="changed my mind"))["status"] == "cancelled"
    other = data(await client.orders.create({"customer_id": customer_id,
                                             "items": [{"product_id": product_id, "quantity": 1}]}))
    assert await client.orders.delete(other["id"]) is None

    shipment = data(await client.orders.mark_as_shipped(order_id, tracking_number="1ZSDK0001", carrier="UPS"))
    assert (shipment["order_id"], shipment["status"], shipment["carrier"]) == (order_id, "shipped", "UPS")
    assert shipment["shipped_at"] is not None
    assert data(await client.orders.get(order_id))["status"] == "shipped"
    assert data(await client.shipments.get(shipment["id"]))["tracking_number"] == "1ZSDK0001"
    assert [s["id"] for s in data(await client.shipments.list(order_id=order_id))["items"]] == [shipment["id"]]

    level = data(await client.inventory.list(product_id=product_id))["items"][0]
    assert (level["on_hand"], level["reserved"]) == (8, 0)  # 2 shipped, the cancelled and deleted ones released
    assert data(await client.inventory.get(level["id"]))["id"] == level["id"]
    assert data(await client.inventory.adjust(level["id"], quantity=5, reason="recount"))["on_hand"] == 13
    assert data(await client.inventory.adjust(level["id"], quantity=-3))["on_hand"] == 10

    await client.request("POST", f"shipments/{shipment['id']}/deliver")
    item_id = data(await client.request("GET", f"orders/{order_id}/items"))[0]["id"]
    opened = data(await client.returns.create({"order_id": order_id, "items": [{"order_item_id": item_id,
                                                                                "quantity": 1}]}))
    assert data(await client.returns.get(opened["id"]))["status"] == "requested"
    assert [r["id"] for r in data(await client.returns.list())["items"]] == [opened["id"]]
    assert data(await client.returns.approve(opened["id"]))["status"] == "approved"
    assert data(await client.returns.mark_received(opened["id"]))["status"] == "received"


async def test_shipping_an_order_writes_nothing_when_it_cannot_ship(sdk: SDKFactory) -> None:
    client = await sdk(["admin:*"])
    customer_id, product_id = await stocked_catalogue(client)
    order = data(await client.orders.create({"customer_id": customer_id,
                                             "items": [{"product_id": product_id, "quantity": 1}]}))
    await client.orders.cancel(order["id"])
    with pytest.raises(StatesetError) as refused:
        await client.orders.mark_as_shipped(order["id"], tracking_number="1ZSDK0002", carrier="UPS")
    assert refused.value.status_code == 422
    assert refused.value.raw_response["error"]["code"] == "INVALID_STATUS_TRANSITION"
    assert data(await client.shipments.list(order_id=order["id"]))["total"] == 0


async def test_the_sdk_raises_its_own_errors_for_404_403_and_401(sdk: SDKFactory) -> None:
    """The SDK picks its error class from the body's top-level `type`, and its message from `message`;
    the guide's payload is beside them, as every client gets it."""
    reader = await sdk(["orders:read"])
    for call, error_class, status, code in [
        (reader.orders.get("00000000-0000-0000-0000-000000000000"), StatesetNotFoundError, 404, "NOT_FOUND"),
        (reader.orders.create({}), StatesetPermissionError, 403, "INSUFFICIENT_PERMISSIONS"),
        ((await sdk([], key="sk_" + "x" * 43)).orders.list(), StatesetAuthenticationError, 401, "INVALID_API_KEY"),
    ]:
        with pytest.raises(error_class) as raised:
            await call
        assert raised.value.status_code == status
        assert raised.value.raw_response["error"]["code"] == code
        assert raised.value.raw_response["error"]["message"] in str(raised.value)


async def test_the_sdk_raises_its_rate_limit_error_for_429(database_url: str, auth_headers: AuthHeaders) -> None:
    key = (await auth_headers(["orders:read"]))["X-API-Key"]
    async with live_gateway(load_settings(database_url=database_url, rate_limit="2/minute")) as base_url:
        async with Stateset(api_key=key, base_url=base_url, retry_config=NO_RETRIES) as client:
            with pytest.raises(StatesetRateLimitError) as limited:
                for _ in range(5):  # the key's first use counts against the address, then its own budget
                    await client.orders.list()
    assert limited.value.status_code == 429
    assert limited.value.raw_response["error"]["code"] == "RATE_LIMIT_EXCEEDED"
