"""Shipments and returns through GraphQL: stock consumed on shipping, back on restock, the return window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient

SHIP = "mutation($i: CreateShipmentInput!) { createShipment(input: $i) { id status } }"


async def _delivered_order(gql: GraphQLClient, qty: int = 2) -> tuple[dict, dict, dict]:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 10, "4.00")
    o = await f.order(gql, c["id"], [(p["id"], qty)])
    await f.pay(gql, o["id"])
    s = (await gql(SHIP, {"i": {"orderId": o["id"], "carrier": "UPS", "trackingNumber": f"1Z{o['id'][:8]}"}}))
    sid = s["createShipment"]["id"]
    await gql("mutation($id: ID!) { markShipped(id: $id) { status } }", {"id": sid})
    await gql("mutation($id: ID!) { markDelivered(id: $id) { status } }", {"id": sid})
    return o, p, s["createShipment"]


async def test_shipping_consumes_stock_and_delivery_completes_the_order(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 10)
    o = await f.order(gql, c["id"], [(p["id"], 3)])
    s = (await gql(SHIP, {"i": {"orderId": o["id"], "carrier": "DHL", "trackingNumber": "TRACK-1"}}))["createShipment"]
    assert s["status"] == "PENDING"
    shipped = await gql("mutation($id: ID!) { markShipped(id: $id) { status shippedAt order { status fulfillmentStatus } } }",
                        {"id": s["id"]})
    assert shipped["markShipped"]["status"] == "SHIPPED" and shipped["markShipped"]["shippedAt"]
    assert shipped["markShipped"]["order"] == {"status": "SHIPPED", "fulfillmentStatus": "FULFILLED"}
    assert await f.levels(gql, p["id"]) == [{"onHand": 7, "reserved": 0, "available": 7}]
    delivered = await gql("mutation($id: ID!) { markDelivered(id: $id) { status order { status deliveredAt } } }",
                          {"id": s["id"]})
    assert delivered["markDelivered"]["order"]["status"] == "DELIVERED"
    tracked = await gql('{ shipmentByTrackingNumber(trackingNumber: "TRACK-1") { id order { orderNumber shipments { id } } } }')
    assert tracked["shipmentByTrackingNumber"]["order"]["orderNumber"] == o["orderNumber"]
    fetched = await gql("query($id: ID!) { shipment(id: $id) { carrier status deliveredAt } }", {"id": s["id"]})
    assert fetched["shipment"]["carrier"] == "DHL" and fetched["shipment"]["status"] == "DELIVERED"
    listed = await gql("query($o: ID!) { shipments(orderId: $o, status: DELIVERED) { totalCount } }", {"o": o["id"]})
    assert listed["shipments"]["totalCount"] == 1


async def test_shipment_errors(gql: GraphQLClient) -> None:
    o, _, s = await _delivered_order(gql)
    err = await gql.error("mutation($id: ID!) { markShipped(id: $id) { id } }", {"id": s["id"]})
    assert err["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    err = await gql.error(SHIP, {"i": {"orderId": o["id"], "carrier": "UPS", "trackingNumber": "NEW-1"}})
    assert err["extensions"]["code"] == "ORDER_ALREADY_FULFILLED"
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o2 = await f.order(gql, c["id"], [(p["id"], 1)])
    err = await gql.error(SHIP, {"i": {"orderId": o2["id"], "carrier": "UPS", "trackingNumber": "1Z" + o["id"][:8]}})
    assert err["extensions"]["code"] == "DUPLICATE_ENTRY"
    assert err["extensions"]["details"]["field"] == "tracking_number"


async def test_return_flow_restocks_and_refunds(gql: GraphQLClient) -> None:
    o, p, _ = await _delivered_order(gql, qty=2)
    item_id = o["items"][0]["id"]
    r = await gql('mutation($i: CreateReturnInput!) { createReturn(input: $i) { id status refundAmount items { quantity } } }',
                  {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": 2}], "reason": "too big"}})
    ret = r["createReturn"]
    assert ret["status"] == "REQUESTED" and ret["refundAmount"] == "8.00"
    for mutation, status in (("approveReturn", "APPROVED"), ("receiveReturn", "RECEIVED"),
                             ("restockReturn", "RESTOCKED")):
        data = await gql(f"mutation($id: ID!) {{ {mutation}(id: $id) {{ status }} }}", {"id": ret["id"]})
        assert data[mutation]["status"] == status
    assert await f.levels(gql, p["id"]) == [{"onHand": 10, "reserved": 0, "available": 10}]
    fetched = await gql("query($id: ID!) { return(id: $id) { status order { id } items { orderItemId product { id } } } }",
                        {"id": ret["id"]})
    assert fetched["return"] == {"status": "RESTOCKED", "order": {"id": o["id"]},
                                 "items": [{"orderItemId": item_id, "product": {"id": p["id"]}}]}
    refunded = await gql("mutation($id: ID!) { refundReturn(id: $id) { status order { status paymentStatus returns { id } } } }",
                         {"id": ret["id"]})
    assert refunded["refundReturn"]["status"] == "REFUNDED"
    assert refunded["refundReturn"]["order"]["status"] == "REFUNDED"
    err = await gql.error("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }",
                          {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": 1}]}})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"


async def test_return_rules(gql: GraphQLClient, db: Database) -> None:
    o, _, _ = await _delivered_order(gql, qty=2)
    item_id = o["items"][0]["id"]
    create = "mutation($i: CreateReturnInput!) { createReturn(input: $i) { id status } }"
    err = await gql.error(create, {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": 3}]}})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert err["extensions"]["details"] == {"items.0.quantity": ["At most 2 can be returned"]}
    ret = (await gql(create, {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": 1}]}}))
    rejected = await gql("mutation($id: ID!) { rejectReturn(id: $id) { status } }", {"id": ret["createReturn"]["id"]})
    assert rejected["rejectReturn"]["status"] == "REJECTED"
    err = await gql.error("mutation($id: ID!) { receiveReturn(id: $id) { status } }", {"id": ret["createReturn"]["id"]})
    assert err["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    assert err["extensions"]["details"] == {"from": "rejected", "to": "received", "allowed": []}

    async with db.writer() as session:  # delivered 31 days ago: past the default 30-day window
        await session.execute(update(Order).where(Order.id == uuid.UUID(o["id"])).values(
            delivered_at=datetime.now(UTC) - timedelta(days=31)))
    err = await gql.error(create, {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": 1}]}})
    assert err["extensions"]["code"] == "RETURN_WINDOW_EXPIRED"
    assert err["extensions"]["status"] == 422


async def test_returns_need_a_delivered_order(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    o = await f.order(gql, c["id"], [(p["id"], 1)])
    err = await gql.error("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }",
                          {"i": {"orderId": o["id"], "items": [{"orderItemId": o["items"][0]["id"], "quantity": 1}]}})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    listed = await gql("{ returns { totalCount } }")
    assert listed["returns"]["totalCount"] == 0


async def test_partial_refund_keeps_the_rest_of_the_order_returnable(gql: GraphQLClient) -> None:
    o, _, _ = await _delivered_order(gql, qty=3)
    item_id = o["items"][0]["id"]
    create = "mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }"

    async def refund(quantity: int) -> dict:
        ret = (await gql(create, {"i": {"orderId": o["id"], "items": [{"orderItemId": item_id, "quantity": quantity}]}}))
        rid = ret["createReturn"]["id"]
        for mutation in ("approveReturn", "receiveReturn", "restockReturn"):
            await gql(f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}", {"id": rid})
        done = await gql("mutation($id: ID!) { refundReturn(id: $id) { order { status paymentStatus } } }", {"id": rid})
        return done["refundReturn"]["order"]

    assert await refund(1) == {"status": "DELIVERED", "paymentStatus": "PARTIALLY_REFUNDED"}
    assert await refund(2) == {"status": "REFUNDED", "paymentStatus": "REFUNDED"}
