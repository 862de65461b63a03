"""/api/v1/inventory over HTTP: levels, adjustments, manual reservations."""

from __future__ import annotations

from tests.support.rest_api import Api

MISSING = "0b6f2a3c-0000-4000-8000-000000000000"


async def test_adjust_creates_and_changes_a_level(api: Api) -> None:
    product = await api.product()
    location = await api.location()
    level = await api.stock(product["id"], 12, location)
    assert (level["on_hand"], level["reserved"], level["available"], level["location_id"]) == (12, 0, 12, location)
    lowered = await api.ok("POST", "/inventory/adjust", json={
        "product_id": product["id"], "location_id": location, "delta": -5, "reorder_point": 7})
    assert (lowered["id"], lowered["on_hand"], lowered["low_stock"], lowered["version"]) == (
        level["id"], 7, True, level["version"] + 1)
    assert await api.ok("GET", f"/inventory/{level['id']}") == lowered
    await api.error("GET", f"/inventory/{MISSING}", 404, "NOT_FOUND")
    await api.error("POST", "/inventory/adjust", 404, "NOT_FOUND",
                    json={"product_id": MISSING, "location_id": location, "delta": 1})


async def test_filters(api: Api) -> None:
    low, high = await api.product(), await api.product()
    here = await api.location()
    await api.stock(low["id"], 2, here)
    await api.stock(high["id"], 50)

    async def products(**params: object) -> list[str]:
        return [lv["product_id"] for lv in (await api.ok("GET", "/inventory", params=params))["items"]]

    assert await products(low_stock="true") == [low["id"]]
    assert await products(low_stock="false") == [high["id"]]
    assert await products(location_id=here) == [low["id"]]
    assert await products(product_id=high["id"]) == [high["id"]]


async def test_write_off_below_reserved_is_insufficient_inventory(api: Api) -> None:
    order = await api.stocked_order(quantity=8, on_hand=10)
    [line] = (await api.ok("GET", f"/orders/{order['id']}"))["items"]
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": line["product_id"]}))["items"]
    error = await api.error("POST", "/inventory/adjust", 422, "INSUFFICIENT_INVENTORY", json={
        "product_id": line["product_id"], "location_id": level["location_id"], "delta": -5})
    assert error["details"] == {"product_id": line["product_id"], "requested": 5, "available": 2}


async def test_reserve_and_release(api: Api) -> None:
    product = await api.product()
    await api.stock(product["id"], 10)
    held = await api.ok("POST", "/inventory/reserve", 201,
                        json={"product_id": product["id"], "quantity": 4, "reference": "marketplace"})
    assert (held["quantity"], held["status"], held["order_id"], held["reference"]) == (4, "active", None,
                                                                                     "marketplace")
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": product["id"]}))["items"]
    assert (level["reserved"], level["available"]) == (4, 6)
    listed = await api.ok("GET", "/inventory/reservations", params={"product_id": product["id"], "status": "active"})
    assert [r["id"] for r in listed["items"]] == [held["id"]]

    error = await api.error("POST", "/inventory/reserve", 422, "INSUFFICIENT_INVENTORY",
                            json={"product_id": product["id"], "quantity": 7})
    assert error["details"] == {"product_id": product["id"], "requested": 7, "available": 6}

    released = await api.ok("POST", "/inventory/release", json={"reservation_id": held["id"]})
    assert released["status"] == "released"
    error = await api.error("POST", "/inventory/release", 422, "INVALID_STATUS_TRANSITION",
                            json={"reservation_id": held["id"]})
    assert error["details"]["from"] == "released"
    await api.error("POST", "/inventory/release", 404, "NOT_FOUND", json={"reservation_id": MISSING})
    (level,) = (await api.ok("GET", "/inventory", params={"product_id": product["id"]}))["items"]
    assert (level["reserved"], level["available"]) == (0, 10)
    assert (await api.ok("GET", "/inventory/reservations", params={"status": "active"}))["total"] == 0


async def test_locations(api: Api) -> None:
    created = await api.ok("POST", "/inventory/locations", 201, json={"code": "WH-EAST", "name": "East Warehouse"})
    assert (created["code"], created["name"]) == ("WH-EAST", "East Warehouse")
    assert await api.ok("GET", "/inventory/locations") == [created]
    error = await api.error("POST", "/inventory/locations", 409, "DUPLICATE_ENTRY", json={"code": "WH-EAST", "name": "X"})
    assert error["details"] == {"field": "code", "value": "WH-EAST"}
