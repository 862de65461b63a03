"""Payments write their events in the payment's own transaction, `data` exactly as REST shows the
payment; a change of the order's payment status is an `order.updated` with the version it bumped.
A decline's event is committed although the pay answers 402."""

from __future__ import annotations

from collections import Counter

from stateset_gateway.db.engine import Database
from tests.support.rest_api import Api
from tests.webhooks.test_events import Events, _of


async def test_pay_decline_and_refund_emit_their_events(api: Api, db: Database) -> None:
    events = Events(db)
    order = await api.stocked_order()
    await events.new()

    await api.error("POST", f"/orders/{order['id']}/payments", 402, "PAYMENT_FAILED",
                    json={"token": "tok_chargeDeclined", "capture": True})
    failing = await events.new()
    assert Counter(e["type"] for e in failing) == {"payment.failed": 1, "order.updated": 1}
    failed = _of(failing, "payment.failed")[0]
    assert failed == await api.ok("GET", f"/payments/{failed['id']}") and failed["status"] == "failed"
    assert _of(failing, "order.updated")[0]["payment_status"] == "failed"

    paid = await api.pay(order["id"])
    paying = await events.new()
    assert Counter(e["type"] for e in paying) == {"payment.succeeded": 1, "order.updated": 1}
    assert _of(paying, "payment.succeeded") == [paid]
    updated = _of(paying, "order.updated")[0]
    assert updated == await api.ok("GET", f"/orders/{order['id']}")
    assert updated["payment_status"] == "paid"

    refunded = await api.ok("POST", f"/payments/{paid['id']}/refund", json={"amount": "1.00"})
    refunding = await events.new()
    assert Counter(e["type"] for e in refunding) == {"payment.refunded": 1, "order.updated": 1}
    assert _of(refunding, "payment.refunded") == [refunded]
    assert _of(refunding, "order.updated")[0]["payment_status"] == "partially_refunded"


async def test_a_payment_the_order_already_has_emits_nothing(api: Api, db: Database) -> None:
    events = Events(db)
    order = await api.stocked_order()
    await api.pay(order["id"])
    await events.new()
    await api.error("POST", f"/orders/{order['id']}/payments", 422, "PAYMENT_ALREADY_PROCESSED",
                    json={"token": "tok_visa", "capture": True})
    assert await events.new() == []
