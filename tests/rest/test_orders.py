"""/api/v1/orders over HTTP: creation with reserved stock, the state machine, optimistic concurrency,
filters and sorting, and `include_items` costing a constant number of statements."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from tests.support.rest_api import Api
from tests.support.statements import StatementLog

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def level_of(api: Api, product_id: str) -> tuple[int, int, int]:
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": product_id}))["items"]
    return level["on_hand"], level["reserved"], level["available"]


async def test_create_prices_from_catalogue_and_reserves_stock(api: Api) -> None:
    customer = await api.customer()
    product = await api.product(price="149.99")
    await api.stock(product["id"], 10)
    order = await api.ok("POST", "/orders", 201, json={
        "customer_id": customer["id"], "items": [{"product_id": product["id"], "quantity": 3}],
        "shipping_address": {"line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country": "us"}})
    assert re.fullmatch(r"ORD-[0-9A-F]{8}", order["order_number"])
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == ("pending", "pending",
                                                                                       "unfulfilled")
    assert order["subtotal"] == "449.97" and order["total"] == "449.97" and order["tax_total"] == "0.00"
    assert order["shipping_address"]["country"] == "US"
    assert RFC3339_UTC.match(order["created_at"]) and order["version"] == 1
    assert await level_of(api, product["id"]) == (10, 3, 7)

    detail = await api.ok("GET", f"/orders/{order['id']}")
    [line] = detail["items"]
    assert (line["sku"], line["quantity"], line["unit_price"], line["line_total"]) == (
        product["sku"], 3, "149.99", "449.97")
    assert (await api.ok("GET", f"/orders/by-number/{order['order_number']}"))["id"] == order["id"]
    assert [i["id"] for i in await api.ok("GET", f"/orders/{order['id']}/items")] == [line["id"]]


async def test_create_for_unknown_customer_or_product_is_not_found(api: Api) -> None:
    product = await api.product()
    missing = "0b6f2a3c-0000-4000-8000-000000000000"
    await api.error("POST", "/orders", 404, "NOT_FOUND",
                    json={"customer_id": missing, "items": [{"product_id": product["id"], "quantity": 1}]})
    customer = await api.customer()
    await api.error("POST", "/orders", 404, "NOT_FOUND",
                    json={"customer_id": customer["id"], "items": [{"product_id": missing, "quantity": 1}]})
    error = await api.error("POST", "/orders", 400, "VALIDATION_ERROR", json={"customer_id": customer["id"], "items": []})
    assert list(error["details"]) == ["items"]
    await api.error("GET", "/orders/by-number/ORD-00000000", 404, "NOT_FOUND")


async def test_add_item_reserves_and_recomputes_totals(api: Api) -> None:
    order = await api.stocked_order(quantity=1)
    extra = await api.product(price="5.50")
    await api.stock(extra["id"], 4)
    updated = await api.ok("POST", f"/orders/{order['id']}/items", 201,
                           json={"product_id": extra["id"], "quantity": 2})
    assert updated["total"] == "160.99" and updated["version"] == order["version"] + 1
    assert await level_of(api, extra["id"]) == (4, 2, 2)
    await api.error("POST", f"/orders/{order['id']}/items", 422, "INSUFFICIENT_INVENTORY",
                    json={"product_id": extra["id"], "quantity": 3})


async def test_update_checks_expected_version(api: Api) -> None:
    order = await api.stocked_order()
    updated = await api.ok("PUT", f"/orders/{order['id']}", json={"notes": "leave at door", "expected_version": 1})
    assert updated["notes"] == "leave at door" and updated["version"] == 2
    error = await api.error("PUT", f"/orders/{order['id']}", 409, "VERSION_CONFLICT",
                            json={"notes": "stale", "expected_version": 1})
    assert error["details"] == {"expected_version": 1, "current_version": 2}
    assert (await api.ok("GET", f"/orders/{order['id']}"))["notes"] == "leave at door"


async def test_status_follows_the_state_machine(api: Api) -> None:
    order = await api.stocked_order()
    path = f"/orders/{order['id']}/status"
    confirmed = await api.ok("PUT", path, json={"status": "confirmed"})
    # Confirming charges nothing: the payment status follows the order's payments, of which it has none.
    assert (confirmed["status"], confirmed["payment_status"]) == ("confirmed", "pending")
    error = await api.error("PUT", path, 422, "INVALID_STATUS_TRANSITION", json={"status": "delivered"})
    assert error["details"] == {"from": "confirmed", "to": "delivered",
                                "allowed": ["cancelled", "on_hold", "processing"]}
    await api.error("PUT", path, 409, "VERSION_CONFLICT", json={"status": "processing", "expected_version": 1})
    error = await api.error("PUT", path, 400, "VALIDATION_ERROR", json={"status": "teleported"})
    assert list(error["details"]) == ["status"]


async def test_cancel_releases_stock_and_shipped_orders_cannot_be_cancelled(api: Api) -> None:
    order = await api.stocked_order(quantity=2)
    [line] = (await api.ok("GET", f"/orders/{order['id']}"))["items"]
    cancelled = await api.ok("POST", f"/orders/{order['id']}/cancel", json={"reason": "changed mind"})
    assert cancelled["status"] == "cancelled" and cancelled["notes"].endswith("Cancelled: changed mind")
    assert await level_of(api, line["product_id"]) == (10, 0, 10)

    shipped = await api.stocked_order()
    for status in ("processing", "shipped"):
        await api.ok("PUT", f"/orders/{shipped['id']}/status", json={"status": status})
    error = await api.error("POST", f"/orders/{shipped['id']}/cancel", 422, "ORDER_ALREADY_FULFILLED")
    assert "shipped" in error["message"]
    await api.error("PUT", f"/orders/{shipped['id']}", 422, "ORDER_ALREADY_FULFILLED", json={"notes": "x"})
    await api.error("DELETE", f"/orders/{shipped['id']}", 422, "ORDER_ALREADY_FULFILLED")


async def test_delete_pending_order_answers_no_content_and_frees_stock(api: Api) -> None:
    order = await api.stocked_order(quantity=4)
    [line] = (await api.ok("GET", f"/orders/{order['id']}"))["items"]
    response = await api.call("DELETE", f"/orders/{order['id']}")
    assert response.status_code == 204 and response.content == b""
    await api.error("GET", f"/orders/{order['id']}", 404, "NOT_FOUND")
    assert await level_of(api, line["product_id"]) == (10, 0, 10)


async def test_filters_search_and_sorting(api: Api) -> None:
    customer = await api.customer("buyer@example.com")
    other = await api.customer()
    cheap, dear = await api.product(price="1.00"), await api.product(price="99.00")
    for product in (cheap, dear):
        await api.stock(product["id"], 10)
    small = await api.order(customer["id"], cheap["id"])
    big = await api.order(other["id"], dear["id"])
    await api.ok("PUT", f"/orders/{big['id']}/status", json={"status": "confirmed"})

    async def ids(**params: Any) -> list[str]:
        return [o["id"] for o in (await api.ok("GET", "/orders", params=params))["items"]]

    assert await ids(status="confirmed") == [big["id"]]
    assert await ids(customer_id=customer["id"]) == [small["id"]]
    assert await ids(search="buyer@") == [small["id"]]
    assert await ids(search=big["order_number"].lower()) == [big["id"]]
    assert await ids(sort_by="total", sort_order="asc") == [small["id"], big["id"]]
    assert await ids(sort_by="total", sort_order="desc") == [big["id"], small["id"]]
    assert await ids(**{"from": "2000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"}) != []
    assert await ids(**{"from": "2999-01-01T00:00:00Z"}) == []
    assert await ids(to="2000-01-01T00:00:00Z") == []
    listed = await api.ok("GET", f"/customers/{customer['id']}/orders")
    assert [o["id"] for o in listed["items"]] == [small["id"]] and listed["total"] == 1
    for bad in ({"sort_by": "colour"}, {"sort_order": "sideways"}, {"status": "lost"}, {"from": "yesterday"}):
        error = await api.error("GET", "/orders", 400, "VALIDATION_ERROR", params=bad)
        assert list(error["details"]) == list(bad)


@pytest.fixture
async def many_orders(db: Database) -> None:
    await seed(db, SeedSize(customers=5, products=5, orders=120, max_items_per_order=3))


async def test_include_items_costs_a_constant_number_of_statements(
    api: Api, sql: StatementLog, many_orders: None, backend: str
) -> None:
    await api.ok("GET", "/orders", params={"limit": 1})  # warm-up: the key's first use may write last_used_at
    counts = {}
    for limit in (5, 100):
        with sql.recording() as statements:
            data = await api.ok("GET", "/orders", params={"include_items": "true", "limit": limit})
        assert len(data["items"]) == limit and data["total"] == 120
        assert all(order["items"] for order in data["items"])
        assert all(item["order_id"] == order["id"] for order in data["items"] for item in order["items"])
        counts[limit] = len([s for s in statements if "order_items" in s.lower()])
        counts[f"all {limit}"] = len([s for s in statements if s.strip().upper() != "BEGIN"])
    print(f"statements on {backend}: {counts}")
    assert counts[5] == counts[100] == 1  # one batch load of the lines per page
    # authentication, the page, its count, the lines (SQLite's explicit BEGINs aside): 4 at any page size
    assert counts["all 5"] == counts["all 100"] <= 4


async def test_metrics_label_requests_with_the_full_route_template(api: Api) -> None:
    await api.call("GET", "/orders/0b6f2a3c-0000-4000-8000-000000000000")
    metrics = (await api.client.get("/metrics")).text
    assert 'route="/api/v1/orders/{order_id}",status="404"' in metrics
