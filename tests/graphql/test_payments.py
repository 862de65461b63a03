"""Payments over GraphQL: payOrder and its decline, Order.payments (planned executor and graphql-core
agree, as for every query here), capture, void and refunds, and a return refunded through them."""

from __future__ import annotations

from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient

PAY = "mutation($o: ID!, $i: PayOrderInput!) { payOrder(orderId: $o, input: $i) { id status amount attempt } }"
PAYMENTS = """query($id: ID!) { order(id: $id) { paymentStatus payments {
    attempt status amount refundedAmount failureCode provider order { id } } } }"""


async def _order(gql: GraphQLClient, qty: int = 2) -> dict:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 10, "4.00")
    return await f.order(gql, c["id"], [(p["id"], qty)])


async def test_pay_order_decline_then_success(gql: GraphQLClient) -> None:
    o = await _order(gql)
    err = await gql.error(PAY, {"o": o["id"], "i": {"token": "tok_insufficientFunds"}})
    assert (err["extensions"]["code"], err["extensions"]["status"]) == ("PAYMENT_FAILED", 402)
    details = err["extensions"]["details"]
    assert (details["provider_code"], details["retryable"]) == ("insufficient_funds", False) and details["reason"]
    assert err["path"] == ["payOrder"]
    read = (await gql(PAYMENTS, {"id": o["id"]}))["order"]
    assert read == {"paymentStatus": "FAILED", "payments": [
        {"attempt": 1, "status": "FAILED", "amount": "8.00", "refundedAmount": "0.00",
         "failureCode": "insufficient_funds", "provider": "test", "order": {"id": o["id"]}}]}

    paid = (await gql(PAY, {"o": o["id"], "i": {"token": "tok_visa"}}))["payOrder"]
    assert (paid["status"], paid["amount"], paid["attempt"]) == ("CAPTURED", "8.00", 2)
    read = (await gql(PAYMENTS, {"id": o["id"]}))["order"]
    assert read["paymentStatus"] == "PAID" and [p["status"] for p in read["payments"]] == ["FAILED", "CAPTURED"]
    err = await gql.error(PAY, {"o": o["id"], "i": {"token": "tok_visa"}})
    assert (err["extensions"]["code"], err["extensions"]["status"]) == ("PAYMENT_ALREADY_PROCESSED", 422)


async def test_payments_of_a_page_of_orders(gql: GraphQLClient) -> None:
    """Order.payments is a declared relation: one batched load for the page, in both executors."""
    first, second = await _order(gql), await _order(gql)
    await f.pay(gql, first["id"])
    await f.pay(gql, second["id"], capture=False)
    page = await gql("{ orders(first: 10) { nodes { id paymentStatus payments { status amount } } } }")
    assert {n["id"]: (n["paymentStatus"], n["payments"]) for n in page["orders"]["nodes"]} == {
        first["id"]: ("PAID", [{"status": "CAPTURED", "amount": "8.00"}]),
        second["id"]: ("AUTHORIZED", [{"status": "AUTHORIZED", "amount": "8.00"}]),
    }


async def test_capture_void_and_refund(gql: GraphQLClient) -> None:
    o = await _order(gql)
    held = await f.pay(gql, o["id"], capture=False)
    captured = await gql("mutation($id: ID!) { capturePayment(id: $id) { status capturedAt order { paymentStatus } } }",
                         {"id": held["id"]})
    assert captured["capturePayment"]["status"] == "CAPTURED" and captured["capturePayment"]["capturedAt"]
    assert captured["capturePayment"]["order"] == {"paymentStatus": "PAID"}
    refund = "mutation($id: ID!, $i: RefundPaymentInput) { refundPayment(id: $id, input: $i) { status refundedAmount } }"
    part = await gql(refund, {"id": held["id"], "i": {"amount": "3.00"}})
    assert part["refundPayment"] == {"status": "PARTIALLY_REFUNDED", "refundedAmount": "3.00"}
    err = await gql.error(refund, {"id": held["id"], "i": {"amount": "5.01"}})
    assert err["extensions"]["code"] == "PAYMENT_ALREADY_PROCESSED"
    assert err["extensions"]["details"]["refundable"] == "5.00"
    rest = await gql(refund, {"id": held["id"]})
    assert rest["refundPayment"] == {"status": "REFUNDED", "refundedAmount": "8.00"}
    assert (await gql(PAYMENTS, {"id": o["id"]}))["order"]["paymentStatus"] == "REFUNDED"

    other = await _order(gql)
    held = await f.pay(gql, other["id"], capture=False)
    voided = await gql("mutation($id: ID!) { voidPayment(id: $id) { status voidedAt } }", {"id": held["id"]})
    assert voided["voidPayment"]["status"] == "VOIDED" and voided["voidPayment"]["voidedAt"]
    fetched = await gql("query($id: ID!) { payment(id: $id) { status order { paymentStatus } } }", {"id": held["id"]})
    assert fetched["payment"] == {"status": "VOIDED", "order": {"paymentStatus": "PENDING"}}


async def test_paying_a_cancelled_order_is_refused(gql: GraphQLClient) -> None:
    o = await _order(gql)
    await gql("mutation($id: ID!) { cancelOrder(id: $id) { status } }", {"id": o["id"]})
    err = await gql.error(PAY, {"o": o["id"], "i": {"token": "tok_visa"}})
    assert err["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    assert err["extensions"]["details"]["from"] == "cancelled"
    assert (await gql(PAYMENTS, {"id": o["id"]}))["order"]["payments"] == []
