"""The "API Request Issues" section of TROUBLESHOOTING.md, example by example, as a client sees it."""

from __future__ import annotations

import httpx

from tests.support.rest_api import Api


async def test_wrong_url_missing_s_is_not_found(api: Api) -> None:
    error = await api.error("GET", "/order", 404, "NOT_FOUND")
    assert "/api/v1/order" in error["message"]


async def test_wrong_url_missing_prefix_is_not_found(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get("/orders", headers=admin_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_resource_that_does_not_exist_is_not_found(api: Api) -> None:
    missing = "0b6f2a3c-0000-4000-8000-000000000000"
    error = await api.error("GET", f"/orders/{missing}", 404, "NOT_FOUND")
    assert missing in error["message"]


async def test_list_orders_gives_valid_ids(api: Api) -> None:
    order = await api.stocked_order()
    listed = await api.ok("GET", "/orders")
    assert [item["id"] for item in listed["items"]] == [order["id"]]


async def test_wrong_method_is_method_not_allowed(api: Api) -> None:
    error = await api.error("DELETE", "/orders", 405, "METHOD_NOT_ALLOWED")
    assert "DELETE" in error["message"]
    response = await api.call("PATCH", "/customers/0b6f2a3c-0000-4000-8000-000000000000")
    assert response.status_code == 405 and "PUT" in response.headers["allow"]


async def test_get_lists_and_post_creates(api: Api) -> None:
    customer = await api.customer()
    product = await api.product()
    await api.stock(product["id"], 5)
    created = await api.ok("POST", "/orders", 201,
                           json={"customer_id": customer["id"], "items": [{"product_id": product["id"], "quantity": 1}]})
    assert created["status"] == "pending"
    assert (await api.ok("GET", "/orders"))["total"] == 1


async def test_validation_error_maps_fields_to_messages(api: Api) -> None:
    error = await api.error("POST", "/customers", 400, "VALIDATION_ERROR",
                            json={"email": "not-an-email", "last_name": "Lee"})
    assert error["message"] == "Invalid request data"
    details = error["details"]
    assert set(details) == {"email", "first_name"}
    assert details["first_name"] == ["First name is required"]
    assert all(isinstance(m, str) for m in details["email"]) and details["email"]


async def test_missing_email_says_email_is_required(api: Api) -> None:
    error = await api.error("POST", "/customers", 400, "VALIDATION_ERROR", json={"first_name": "A", "last_name": "B"})
    assert error["details"] == {"email": ["Email is required"]}


async def test_wrong_type_and_format_are_validation_errors(api: Api) -> None:
    error = await api.error("POST", "/products", 400, "VALIDATION_ERROR",
                            json={"sku": "X-1", "name": "Mug", "price": "a lot"})
    assert list(error["details"]) == ["price"]
    error = await api.error("GET", "/orders/not-a-uuid", 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["order_id"]
    error = await api.error("POST", "/orders", 400, "VALIDATION_ERROR", content=b"{not json",
                            headers={"Content-Type": "application/json"})
    assert "body" in error["details"]


async def test_duplicate_customer_email_is_duplicate_entry(api: Api) -> None:
    await api.customer("user@example.com")
    error = await api.error("POST", "/customers", 409, "DUPLICATE_ENTRY",
                            json={"email": "User@Example.com", "first_name": "A", "last_name": "B"})
    assert error["message"] == "A resource with this identifier already exists"
    assert error["details"] == {"field": "email", "value": "user@example.com"}


async def test_existing_resource_found_by_email_then_updated(api: Api) -> None:
    customer = await api.customer("user@example.com")
    found = await api.ok("GET", "/customers", params={"email": "user@example.com"})
    assert [c["id"] for c in found["items"]] == [customer["id"]]
    updated = await api.ok("PUT", f"/customers/{customer['id']}", json={"first_name": "Grace"})
    assert updated["first_name"] == "Grace" and updated["version"] == customer["version"] + 1


async def test_duplicate_sku_is_duplicate_entry(api: Api) -> None:
    await api.product(sku="TEE-001")
    error = await api.error("POST", "/products", 409, "DUPLICATE_ENTRY",
                            json={"sku": "TEE-001", "name": "Tee", "price": "20.00"})
    assert error["details"] == {"field": "sku", "value": "TEE-001"}


async def test_insufficient_inventory_is_unprocessable_with_details(api: Api) -> None:
    customer = await api.customer()
    product = await api.product()
    await api.stock(product["id"], 5)
    error = await api.error("POST", "/orders", 422, "INSUFFICIENT_INVENTORY", json={
        "customer_id": customer["id"], "items": [{"product_id": product["id"], "quantity": 10}]})
    assert error["message"] == "Not enough inventory available"
    assert error["details"] == {"product_id": product["id"], "requested": 10, "available": 5}
    # nothing was written: the stock is still all available, and there is no order
    levels = await api.ok("GET", "/inventory", params={"product_id": product["id"]})
    assert [(lv["on_hand"], lv["reserved"], lv["available"]) for lv in levels["items"]] == [(5, 0, 5)]
    assert (await api.ok("GET", "/orders"))["total"] == 0


async def test_pagination_shape_and_limits(api: Api) -> None:
    for _ in range(5):
        await api.customer()
    data = await api.ok("GET", "/customers", params={"page": 2, "limit": 2})
    assert {k: data[k] for k in ("total", "page", "limit", "total_pages")} == {
        "total": 5, "page": 2, "limit": 2, "total_pages": 3}
    assert len(data["items"]) == 2
    default = await api.ok("GET", "/customers")
    assert default["page"] == 1 and default["limit"] == 20 and len(default["items"]) == 5
    last = await api.ok("GET", "/customers", params={"page": 3, "limit": 2})
    assert len(last["items"]) == 1
    error = await api.error("GET", "/customers", 400, "VALIDATION_ERROR", params={"limit": 101})
    assert list(error["details"]) == ["limit"]
    error = await api.error("GET", "/customers", 400, "VALIDATION_ERROR", params={"page": 0})
    assert list(error["details"]) == ["page"]
