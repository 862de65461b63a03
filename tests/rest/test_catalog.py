"""/api/v1/customers and /api/v1/products over HTTP: shapes, filters, optimistic concurrency, deletes."""

from __future__ import annotations

import re
import uuid

from tests.support.rest_api import Api

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
MISSING = "0b6f2a3c-0000-4000-8000-000000000000"


async def test_customer_crud(api: Api) -> None:
    created = await api.ok("POST", "/customers", 201, json={
        "email": "Ada@Example.com", "first_name": " Ada ", "last_name": "Lovelace", "phone": "+44 20 0000",
        "addresses": [{"line1": "1 St", "city": "London", "postal_code": "N1", "country": "gb"}]})
    assert UUID.match(created["id"]) and RFC3339_UTC.match(created["created_at"])
    assert (created["email"], created["first_name"], created["version"]) == ("ada@example.com", "Ada", 1)
    path = f"/customers/{created['id']}"
    assert await api.ok("GET", path) == created

    updated = await api.ok("PUT", path, json={"last_name": "King", "expected_version": 1})
    assert (updated["last_name"], updated["first_name"], updated["version"]) == ("King", "Ada", 2)
    assert updated["updated_at"] >= created["updated_at"]
    error = await api.error("PUT", path, 409, "VERSION_CONFLICT", json={"last_name": "X", "expected_version": 1})
    assert error["details"] == {"expected_version": 1, "current_version": 2}

    response = await api.call("DELETE", path)
    assert response.status_code == 204 and response.content == b""
    await api.error("GET", path, 404, "NOT_FOUND")
    await api.error("DELETE", path, 404, "NOT_FOUND")
    await api.error("PUT", f"/customers/{MISSING}", 404, "NOT_FOUND", json={"first_name": "Z"})
    await api.error("GET", f"/customers/{MISSING}/orders", 404, "NOT_FOUND")


async def test_customer_email_change_to_taken_one_is_duplicate(api: Api) -> None:
    await api.customer("taken@example.com")
    mine = await api.customer()
    error = await api.error("PUT", f"/customers/{mine['id']}", 409, "DUPLICATE_ENTRY", json={"email": "taken@example.com"})
    assert error["details"] == {"field": "email", "value": "taken@example.com"}


async def test_customer_with_orders_is_kept(api: Api) -> None:
    order = await api.stocked_order()
    error = await api.error("DELETE", f"/customers/{order['customer_id']}", 400, "VALIDATION_ERROR")
    assert list(error["details"]) == ["customer_id"]


async def test_customer_search(api: Api) -> None:
    ada = await api.ok("POST", "/customers", 201, json={"email": "ada@example.com", "first_name": "Ada",
                                                         "last_name": "Lovelace"})
    await api.customer()
    found = await api.ok("GET", "/customers", params={"search": "LOVE"})
    assert [c["id"] for c in found["items"]] == [ada["id"]] and found["total"] == 1
    assert (await api.ok("GET", "/customers", params={"email": "ADA@example.com"}))["total"] == 1
    assert (await api.ok("GET", "/customers", params={"email": "nobody@example.com"}))["items"] == []


async def test_product_crud_with_money_as_decimal_strings(api: Api) -> None:
    created = await api.ok("POST", "/products", 201, json={"sku": "MUG-1", "name": "Mug", "price": 12.5,
                                                           "currency": "eur"})
    assert (created["price"], created["currency"], created["is_active"]) == ("12.50", "EUR", True)
    path = f"/products/{created['id']}"
    updated = await api.ok("PUT", path, json={"price": "149.99", "expected_version": 1})
    assert (updated["price"], updated["version"]) == ("149.99", 2)
    await api.error("PUT", path, 409, "VERSION_CONFLICT", json={"name": "Cup", "expected_version": 1})
    await api.product(sku="MUG-2")
    error = await api.error("PUT", path, 409, "DUPLICATE_ENTRY", json={"sku": "MUG-2"})
    assert error["details"] == {"field": "sku", "value": "MUG-2"}
    error = await api.error("POST", "/products", 400, "VALIDATION_ERROR",
                            json={"sku": "X", "name": "X", "price": "-1", "colour": "red"})
    assert set(error["details"]) == {"price", "colour"}

    response = await api.call("DELETE", path)
    assert response.status_code == 204 and response.content == b""
    await api.error("GET", path, 404, "NOT_FOUND")


async def test_product_filters_and_archiving_on_delete(api: Api) -> None:
    order = await api.stocked_order()
    [line] = (await api.ok("GET", f"/orders/{order['id']}"))["items"]
    other = await api.product(sku=f"LAMP-{uuid.uuid4().hex[:4]}")
    response = await api.call("DELETE", f"/products/{line['product_id']}")
    assert response.status_code == 204
    archived = await api.ok("GET", f"/products/{line['product_id']}")
    assert archived["is_active"] is False
    assert [p["id"] for p in (await api.ok("GET", "/products", params={"is_active": "true"}))["items"]] == [other["id"]]
    assert (await api.ok("GET", "/products", params={"sku": other["sku"]}))["total"] == 1
    assert (await api.ok("GET", "/products", params={"search": "lamp-"}))["total"] == 1


async def test_null_for_a_required_field_is_a_validation_error(api: Api) -> None:
    product = await api.product()
    error = await api.error("PUT", f"/products/{product['id']}", 400, "VALIDATION_ERROR", json={"name": None})
    assert error["details"] == {"name": ["Cannot be null"]}
    customer = await api.customer()
    error = await api.error("PUT", f"/customers/{customer['id']}", 400, "VALIDATION_ERROR", json={"email": None})
    assert error["details"] == {"email": ["Cannot be null"]}
    cleared = await api.ok("PUT", f"/products/{product['id']}", json={"description": None})
    assert cleared["description"] is None
