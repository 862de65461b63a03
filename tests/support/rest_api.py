"""A small REST client for tests: admin-keyed calls that unwrap the success envelope, and the few
setup steps (customer, product, stock, order) most REST tests need.

The `api` fixture (tests/conftest.py) is one, keyed as an admin.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from stateset_gateway.db.engine import Database


class Api:
    """Calls /api/v1 as an admin; `call` returns the raw response, the helpers the unwrapped `data`."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], db: Database) -> None:
        self.client = client
        self.headers = headers
        self.db = db

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["success"] is True and body["meta"]["request_id"] == response.headers["x-request-id"]
        return body["data"]

    async def error(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error["code"] == code and error["status"] == status
        assert error["request_id"] == response.headers["x-request-id"]
        return error

    # ---- setup -----------------------------------------------------------------------------------

    async def customer(self, email: str | None = None) -> dict[str, Any]:
        email = email or f"c-{uuid.uuid4().hex[:8]}@example.com"
        return await self.ok("POST", "/customers", 201, json={"email": email, "first_name": "Ada", "last_name": "Lee"})

    async def product(self, price: str = "149.99", sku: str | None = None) -> dict[str, Any]:
        sku = sku or f"SKU-{uuid.uuid4().hex[:8]}"
        return await self.ok("POST", "/products", 201, json={"sku": sku, "name": "Trail Pack", "price": price})

    async def location(self) -> str:
        created = await self.ok("POST", "/inventory/locations", 201,
                                json={"code": f"WH-{uuid.uuid4().hex[:6]}", "name": "Main"})
        return str(created["id"])

    async def stock(self, product_id: str, on_hand: int, location_id: str | None = None) -> dict[str, Any]:
        location_id = location_id or await self.location()
        return await self.ok("POST", "/inventory/adjust", json={
            "product_id": product_id, "location_id": location_id, "delta": on_hand, "reason": "receipt"})

    async def order(self, customer_id: str, product_id: str, quantity: int = 1) -> dict[str, Any]:
        return await self.ok("POST", "/orders", 201, json={
            "customer_id": customer_id, "items": [{"product_id": product_id, "quantity": quantity}]})

    async def stocked_order(self, quantity: int = 2, on_hand: int = 10) -> dict[str, Any]:
        """A pending order of `quantity` units of a freshly stocked product; returns the order."""
        customer = await self.customer()
        product = await self.product()
        await self.stock(product["id"], on_hand)
        return await self.order(customer["id"], product["id"], quantity)

    async def pay(self, order_id: str, token: str = "tok_visa", capture: bool = True) -> dict[str, Any]:
        """Pay for the order through the test provider (`tok_visa` succeeds); returns the payment."""
        return await self.ok("POST", f"/orders/{order_id}/payments", 201, json={"token": token, "capture": capture})

    async def delivered_order(self) -> dict[str, Any]:
        """An order paid for and carried through shipping and delivery over REST; returns it re-read."""
        order = await self.stocked_order()
        await self.pay(order["id"])
        shipment = await self.ok("POST", "/shipments", 201, json={
            "order_id": order["id"], "carrier": "UPS", "tracking_number": f"1Z{uuid.uuid4().hex[:12]}"})
        await self.ok("POST", f"/shipments/{shipment['id']}/ship")
        await self.ok("POST", f"/shipments/{shipment['id']}/deliver")
        return await self.ok("GET", f"/orders/{order['id']}")
