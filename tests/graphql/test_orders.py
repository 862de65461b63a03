"""Orders through GraphQL: pricing, stock reservation, the state machine and its documented errors."""

from __future__ import annotations

from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient


async def test_create_order_prices_from_catalogue_and_reserves_stock(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p1, _ = await f.stocked_product(gql, 10, "19.99")
    p2, _ = await f.stocked_product(gql, 5, "5.50")
    o = await f.order(gql, c["id"], [(p1["id"], 2), (p2["id"], 3)])
    assert o["status"] == "PENDING"
    assert o["orderNumber"].startswith("ORD-") and len(o["orderNumber"]) == 12
    assert o["subtotal"] == "56.48" and o["total"] == "56.48"
    assert await f.levels(gql, p1["id"]) == [{"onHand": 10, "reserved": 2, "available": 8}]
    assert await f.levels(gql, p2["id"]) == [{"onHand": 5, "reserved": 3, "available": 2}]


async def test_insufficient_inventory_fails_whole_order_without_partial_write(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    plenty, _ = await f.stocked_product(gql, 10)
    scarce, _ = await f.stocked_product(gql, 1)
    error = await gql.error(
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        {"i": {"customerId": c["id"], "items": [{"productId": plenty["id"], "quantity": 4},
                                                {"productId": scarce["id"], "quantity": 2}]}},
    )
    assert error["extensions"]["code"] == "INSUFFICIENT_INVENTORY"
    assert error["extensions"]["status"] == 422
    assert error["extensions"]["details"] == {"product_id": scarce["id"], "requested": 2, "available": 1}
    assert await f.levels(gql, plenty["id"]) == [{"onHand": 10, "reserved": 0, "available": 10}]
    assert (await gql("{ orders { totalCount } }"))["orders"]["totalCount"] == 0


async def test_order_for_unknown_customer_or_product_is_not_found(gql: GraphQLClient) -> None:
    p, _ = await f.stocked_product(gql)
    missing = "00000000-0000-0000-0000-000000000000"
    err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                          {"i": {"customerId": missing, "items": [{"productId": p["id"], "quantity": 1}]}})
    assert err["extensions"]["code"] == "NOT_FOUND"
    c = await f.customer(gql)
    err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                          {"i": {"customerId": c["id"], "items": [{"productId": missing, "quantity": 1}]}})
    assert err["extensions"]["code"] == "NOT_FOUND"


async def test_bad_order_input_is_a_validation_error_with_field_details(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                          {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 0}]}})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert err["extensions"]["status"] == 400
    assert "items.0.quantity" in err["extensions"]["details"]
    err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                          {"i": {"customerId": c["id"], "items": []}})
    assert "items" in err["extensions"]["details"]


async def test_state_machine_allows_documented_path_and_refuses_others(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    for status in ("CONFIRMED", "ON_HOLD", "PROCESSING", "SHIPPED", "DELIVERED", "EXCHANGED", "REFUNDED"):
        assert (await f.set_status(gql, o["id"], status))["status"] == status
    err = await gql.error("mutation($id: ID!) { updateOrderStatus(id: $id, status: PENDING) { id } }", {"id": o["id"]})
    assert err["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    assert err["extensions"]["details"] == {"from": "refunded", "to": "pending", "allowed": []}


async def test_invalid_transition_lists_allowed_statuses(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    err = await gql.error("mutation($id: ID!) { updateOrderStatus(id: $id, status: DELIVERED) { id } }",
                          {"id": o["id"]})
    assert err["extensions"]["status"] == 422
    assert err["extensions"]["details"] == {
        "from": "pending", "to": "delivered", "allowed": ["cancelled", "confirmed", "on_hold", "processing"]}


async def test_every_write_bumps_version_and_stale_version_conflicts(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    confirmed = await f.set_status(gql, o["id"], "CONFIRMED")
    assert confirmed["version"] == o["version"] + 1
    err = await gql.error(
        "mutation($id: ID!, $v: Int) { updateOrderStatus(id: $id, status: PROCESSING, expectedVersion: $v) { id } }",
        {"id": o["id"], "v": o["version"]},
    )
    assert err["extensions"]["code"] == "VERSION_CONFLICT"
    assert err["extensions"]["status"] == 409
    ok = await gql("mutation($id: ID!, $v: Int) { updateOrder(id: $id, input: {notes: \"gift\", expectedVersion: $v}) "
                   "{ notes version } }", {"id": o["id"], "v": confirmed["version"]})
    assert ok["updateOrder"] == {"notes": "gift", "version": confirmed["version"] + 1}


async def test_cancel_releases_stock_and_fulfilled_orders_cannot_be_cancelled(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5)
    o = await f.order(gql, c["id"], [(p["id"], 3)])
    cancelled = await gql('mutation($id: ID!) { cancelOrder(id: $id, reason: "changed mind") { status cancelledAt } }',
                          {"id": o["id"]})
    assert cancelled["cancelOrder"]["status"] == "CANCELLED" and cancelled["cancelOrder"]["cancelledAt"]
    assert await f.levels(gql, p["id"]) == [{"onHand": 5, "reserved": 0, "available": 5}]

    shipped = await f.order(gql, c["id"], [(p["id"], 1)])
    for status in ("PROCESSING", "SHIPPED"):
        await f.set_status(gql, shipped["id"], status)
    err = await gql.error("mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": shipped["id"]})
    assert err["extensions"]["code"] == "ORDER_ALREADY_FULFILLED"
    err = await gql.error('mutation($id: ID!) { updateOrder(id: $id, input: {notes: "x"}) { id } }', {"id": shipped["id"]})
    assert err["extensions"]["code"] == "ORDER_ALREADY_FULFILLED"
    assert await f.levels(gql, p["id"]) == [{"onHand": 4, "reserved": 0, "available": 4}]


async def test_add_order_item_reserves_and_updates_totals(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5, "2.00")
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    data = await gql("mutation($o: ID!, $p: ID!) { addOrderItem(orderId: $o, input: {productId: $p, quantity: 2}) "
                     "{ total items { quantity } } }", {"o": o["id"], "p": p["id"]})
    assert data["addOrderItem"]["total"] == "6.00"
    assert [i["quantity"] for i in data["addOrderItem"]["items"]] == [1, 2]
    assert await f.levels(gql, p["id"]) == [{"onHand": 5, "reserved": 3, "available": 2}]
    err = await gql.error("mutation($o: ID!, $p: ID!) { addOrderItem(orderId: $o, input: {productId: $p, quantity: 3}) "
                          "{ id } }", {"o": o["id"], "p": p["id"]})
    assert err["extensions"]["code"] == "INSUFFICIENT_INVENTORY"


async def test_order_lookups_and_not_found(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    by_number = await gql("query($n: String!) { orderByNumber(orderNumber: $n) { id customer { id } } }",
                          {"n": o["orderNumber"]})
    assert by_number["orderByNumber"] == {"id": o["id"], "customer": {"id": c["id"]}}
    body = (await gql.post("{ order(id: \"00000000-0000-0000-0000-000000000001\") { id } }")).json()
    assert body["data"] == {"order": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    err = await gql.error('{ order(id: "not-a-uuid") { id } }')
    assert err["extensions"]["code"] == "VALIDATION_ERROR"


async def test_orders_filter_search_sort_and_delete(gql: GraphQLClient) -> None:
    c1, c2 = await f.customer(gql), await f.customer(gql, "findme@example.com")
    p, _ = await f.stocked_product(gql, 50, "1.00")
    small = await f.order(gql, c1["id"], [(p["id"], 1)])
    big = await f.order(gql, c2["id"], [(p["id"], 5)])
    await f.set_status(gql, big["id"], "CONFIRMED")
    q = "query($f: OrderFilter, $s: OrderSort) { orders(filter: $f, sort: $s) { totalCount nodes { id } } }"
    assert (await gql(q, {"f": {"status": "CONFIRMED"}}))["orders"]["nodes"] == [{"id": big["id"]}]
    assert (await gql(q, {"f": {"customerId": c1["id"]}}))["orders"]["nodes"] == [{"id": small["id"]}]
    assert (await gql(q, {"f": {"search": "findme"}}))["orders"]["nodes"] == [{"id": big["id"]}]
    assert (await gql(q, {"f": {"search": small["orderNumber"][4:]}}))["orders"]["nodes"] == [{"id": small["id"]}]
    by_total = await gql(q, {"s": {"field": "TOTAL", "direction": "ASC"}})
    assert [n["id"] for n in by_total["orders"]["nodes"]] == [small["id"], big["id"]]
    assert (await gql("mutation($id: ID!) { deleteOrder(id: $id) }", {"id": small["id"]}))["deleteOrder"] is True
    err = await gql.error("mutation($id: ID!) { deleteOrder(id: $id) }", {"id": big["id"]})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert await f.levels(gql, p["id"]) == [{"onHand": 50, "reserved": 5, "available": 45}]


async def test_closed_orders_and_order_reservations_are_guarded(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5)
    o = await f.order(gql, c["id"], [(p["id"], 2)])
    held = await gql("query($o: ID!) { reservations(orderId: $o) { nodes { id } } }", {"o": o["id"]})
    err = await gql.error("mutation($id: ID!) { releaseInventory(reservationId: $id) { id } }",
                          {"id": held["reservations"]["nodes"][0]["id"]})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert await f.levels(gql, p["id"]) == [{"onHand": 5, "reserved": 2, "available": 3}]
    long_notes = "n" * 4000
    await gql("mutation($id: ID!, $n: String) { updateOrder(id: $id, input: {notes: $n}) { id } }",
              {"id": o["id"], "n": long_notes})
    cancelled = await gql('mutation($id: ID!) { cancelOrder(id: $id, reason: "changed mind") { notes } }',
                          {"id": o["id"]})
    assert len(cancelled["cancelOrder"]["notes"]) == 4000
    assert cancelled["cancelOrder"]["notes"].endswith("Cancelled: changed mind")
    err = await gql.error("mutation($o: ID!, $p: ID!) { addOrderItem(orderId: $o, input: {productId: $p, quantity: 1}) "
                          "{ id } }", {"o": o["id"], "p": p["id"]})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert err["extensions"]["details"]["status"]
