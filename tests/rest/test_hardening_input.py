"""Hostile input gets a 400 VALIDATION_ERROR naming the field, never a 500, on both transports and
both databases: integers beyond what their column holds, instants without an offset or beyond year
9999, and money written any way but plain decimal digits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from stateset_gateway.db.models import InventoryBalance

from tests.support.graphql_client import GraphQLClient
from tests.support.rest_api import Api

HUGE = 10**30
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def graphql_refuses(gql: GraphQLClient, document: str) -> dict[str, Any]:
    """A document whose input is refused: 400 VALIDATION_ERROR under graphql-response+json. Values are
    written inline (`literal`): variables reach the same scalar, but the error they report is the
    variable-coercion path, whose status is the GraphQL error renderer's concern."""
    response = await gql.post(document, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    return error


def literal(value: Any) -> str:
    """`value` as a GraphQL literal (JSON's strings, numbers and booleans are GraphQL's too)."""
    return json.dumps(value)


@pytest.fixture
def gql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> GraphQLClient:
    return GraphQLClient(client, admin_headers)


async def refused(api: Api, method: str, path: str, field: str, **kwargs: Any) -> None:
    error = await api.error(method, path, 400, "VALIDATION_ERROR", **kwargs)
    assert field in error["details"], error


# ---- integers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [HUGE, -HUGE, 2**31, -(2**31) - 1])
async def test_expected_version_beyond_its_column_is_a_validation_error(api: Api, version: int) -> None:
    order = await api.stocked_order()
    product = await api.product()
    customer = await api.customer()
    await refused(api, "PUT", f"/orders/{order['id']}", "expected_version",
                  json={"notes": "x", "expected_version": version})
    await refused(api, "PUT", f"/orders/{order['id']}/status", "expected_version",
                  json={"status": "confirmed", "expected_version": version})
    await refused(api, "PUT", f"/products/{product['id']}", "expected_version",
                  json={"name": "x", "expected_version": version})
    await refused(api, "PUT", f"/customers/{customer['id']}", "expected_version",
                  json={"last_name": "x", "expected_version": version})


async def test_a_stale_version_within_range_is_still_a_conflict(api: Api) -> None:
    order = await api.stocked_order()
    error = await api.error("PUT", f"/orders/{order['id']}", 409, "VERSION_CONFLICT",
                            json={"notes": "x", "expected_version": 2**31 - 1})
    assert error["details"] == {"expected_version": 2**31 - 1, "current_version": order["version"]}


@pytest.mark.parametrize("reorder_point", [2**40, 2**31, 2.2e26, -1])
async def test_reorder_point_beyond_its_column_is_a_validation_error(api: Api, reorder_point: Any) -> None:
    product = await api.product()
    location = await api.location()
    await refused(api, "POST", "/inventory/adjust", "reorder_point", json={
        "product_id": product["id"], "location_id": location, "delta": 1, "reorder_point": reorder_point})
    levels = await api.ok("GET", "/inventory", params={"product_id": product["id"]})
    assert levels["items"] == []  # nothing was stored


async def test_reorder_point_at_its_column_bound_is_stored(api: Api) -> None:
    product = await api.product()
    location = await api.location()
    level = await api.ok("POST", "/inventory/adjust", json={
        "product_id": product["id"], "location_id": location, "delta": 1, "reorder_point": 2**31 - 1})
    assert level["reorder_point"] == 2**31 - 1 and level["low_stock"] is True


async def test_on_hand_is_never_adjusted_beyond_its_column(api: Api) -> None:
    product = await api.product()
    level = await api.stock(product["id"], 1)
    async with api.db.writer() as session:
        await session.execute(update(InventoryBalance).values(on_hand=2**31 - 5))
    await refused(api, "POST", "/inventory/adjust", "delta", json={
        "product_id": product["id"], "location_id": level["location_id"], "delta": 10})
    assert (await api.ok("GET", f"/inventory/{level['id']}"))["on_hand"] == 2**31 - 5


async def test_order_amounts_never_exceed_what_their_columns_hold(api: Api) -> None:
    customer = await api.customer()
    dear = await api.product(price="9999999999.99")
    await api.stock(dear["id"], 10)
    lines = {"customer_id": customer["id"], "items": [{"product_id": dear["id"], "quantity": 2}]}
    await refused(api, "POST", "/orders", "items", json=lines)
    order = await api.order(customer["id"], dear["id"], 1)
    await refused(api, "POST", f"/orders/{order['id']}/items", "items", json={"product_id": dear["id"], "quantity": 1})
    kept = await api.ok("GET", f"/orders/{order['id']}")
    assert (kept["total"], len(kept["items"])) == ("9999999999.99", 1)
    assert (await api.ok("GET", "/inventory", params={"product_id": dear["id"]}))["items"][0]["reserved"] == 1


@pytest.mark.parametrize("path", ["/orders", "/products", "/customers", "/inventory", "/inventory/reservations",
                                  "/returns", "/shipments", "/auth/api-keys"])
async def test_huge_page_numbers_are_validation_errors(api: Api, path: str) -> None:
    await refused(api, "GET", path, "page", params={"page": str(HUGE)})
    await refused(api, "GET", path, "limit", params={"limit": str(HUGE)})


async def test_graphql_integers_beyond_32_bits_are_refused(gql: GraphQLClient, api: Api) -> None:
    product = await api.product()
    location = await api.location()
    await graphql_refuses(gql, f'mutation {{ adjustInventory(input: {{productId: "{product["id"]}", '
                               f'locationId: "{location}", delta: 1, reorderPoint: 2199023255552}}) {{ id }} }}')


# ---- instants ------------------------------------------------------------------------------------

@pytest.mark.parametrize("expires_at", ["2099-01-01T00:00:00", "9999-12-31T23:59:59-14:00",
                                        "0001-01-01T00:00:00+14:00"])
async def test_api_key_expiry_without_offset_or_out_of_range_is_a_validation_error(
    api: Api, expires_at: str
) -> None:
    error = await api.error("POST", "/auth/api-keys", 400, "VALIDATION_ERROR",
                            json={"name": "ci", "permissions": ["orders:read"], "expires_at": expires_at})
    assert list(error["details"]) == ["expires_at"]


async def test_api_key_expiry_with_an_offset_is_kept_as_utc(api: Api) -> None:
    created = await api.ok("POST", "/auth/api-keys", 201, json={
        "name": "ci", "permissions": ["orders:read"], "expires_at": "9999-12-31T09:59:59-14:00"})
    assert created["expires_at"].startswith("9999-12-31T23:59:59")


@pytest.mark.parametrize("expires_at", ["2099-01-01T00:00:00", "9999-12-31T23:59:59-14:00"])
async def test_graphql_api_key_expiry_without_offset_or_out_of_range_is_a_validation_error(
    gql: GraphQLClient, expires_at: str
) -> None:
    error = await graphql_refuses(gql, 'mutation { createApiKey(input: {name: "ci", permissions: ["orders:read"], '
                                       f'expiresAt: {literal(expires_at)}}}) {{ key }} }}')
    assert "UTC offset" in error["message"] or "between" in error["message"], error


@pytest.mark.parametrize("instant", ["2025-01-01T00:00:00", "9999-12-31T23:59:59-14:00"])
async def test_order_filter_instants_without_offset_or_out_of_range_are_validation_errors(
    api: Api, gql: GraphQLClient, instant: str
) -> None:
    await refused(api, "GET", "/orders", "from", params={"from": instant})
    await refused(api, "GET", "/orders", "to", params={"to": instant})
    await graphql_refuses(gql, f"{{ orders(filter: {{createdFrom: {literal(instant)}}}, first: 1) {{ totalCount }} }}")


# ---- money ---------------------------------------------------------------------------------------

MALFORMED_MONEY = ["1_000", " 5 ", "5 ", "1e3", "NaN", "Infinity", "-Infinity", "+5", ".5", "5.", "\u0665",
                   "", "0x10", "1,000", True]


@pytest.mark.parametrize("price", MALFORMED_MONEY)
async def test_malformed_money_is_a_validation_error(api: Api, gql: GraphQLClient, price: Any) -> None:
    await refused(api, "POST", "/products", "price", json={"sku": "M-1", "name": "Mug", "price": price})
    product = await api.product()
    await refused(api, "PUT", f"/products/{product['id']}", "price", json={"price": price})
    await graphql_refuses(gql, f'mutation {{ createProduct(input: {{sku: "M-2", name: "Mug", price: {literal(price)}}}) '
                               '{ id } }')


@pytest.mark.parametrize(("price", "echoed"), [("-0", "0.00"), ("-0.00", "0.00"), ("0", "0.00"), ("5", "5.00"),
                                               ("12.5", "12.50"), (12.5, "12.50"), (7, "7.00")])
async def test_money_is_echoed_in_cents_on_both_transports(
    api: Api, gql: GraphQLClient, price: Any, echoed: str
) -> None:
    created = await api.ok("POST", "/products", 201, json={"sku": "M-1", "name": "Mug", "price": price})
    assert created["price"] == echoed
    updated = await api.ok("PUT", f"/products/{created['id']}", json={"price": price})
    assert updated["price"] == echoed
    data = await gql("mutation($p: Decimal!) { createProduct(input: {sku: \"M-2\", name: \"Mug\", price: $p}) "
                     "{ id price } }", {"p": price})
    assert data["createProduct"]["price"] == echoed
    read = await gql("query($id: ID!) { product(id: $id) { price } }", {"id": data["createProduct"]["id"]})
    assert read["product"]["price"] == echoed
