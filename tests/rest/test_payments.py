"""Payments over REST: the test provider's tokens, capture and void, refunds (direct and through a
return, partial then full), and the rules that refuse a second payment or an over-refund.
`payment_status` is read back from the order each time: it follows the payments, never the status."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Payment
from tests.support.rest_api import Api

DECLINES = [
    ("tok_chargeDeclined", "card_declined", False),
    ("tok_insufficientFunds", "insufficient_funds", False),
    ("tok_processingError", "processing_error", True),
]


async def _order(api: Api, quantity: int = 2) -> dict[str, Any]:
    return await api.stocked_order(quantity=quantity)  # 149.99 each


async def _payment_status(api: Api, order: dict[str, Any]) -> str:
    return (await api.ok("GET", f"/orders/{order['id']}"))["payment_status"]  # type: ignore[no-any-return]


async def test_tok_visa_captures_the_order_total(api: Api) -> None:
    order = await _order(api)
    payment = await api.pay(order["id"])
    assert {k: payment[k] for k in ("order_id", "attempt", "amount", "currency", "status", "provider",
                                    "refunded_amount", "failure_code")} == {
        "order_id": order["id"], "attempt": 1, "amount": "299.98", "currency": "USD", "status": "captured",
        "provider": "test", "refunded_amount": "0.00", "failure_code": None}
    assert payment["provider_reference"].startswith("test_") and payment["captured_at"] is not None
    assert await _payment_status(api, order) == "paid"
    assert await api.ok("GET", f"/orders/{order['id']}/payments") == [payment]
    assert await api.ok("GET", f"/payments/{payment['id']}") == payment


@pytest.mark.parametrize(("token", "code", "retryable"), DECLINES)
async def test_a_decline_is_402_and_the_failed_payment_stays_on_record(
    api: Api, token: str, code: str, retryable: bool
) -> None:
    order = await _order(api)
    error = await api.error("POST", f"/orders/{order['id']}/payments", 402, "PAYMENT_FAILED", json={"token": token})
    assert set(error["details"]) == {"reason", "provider_code", "retryable"}
    assert (error["details"]["provider_code"], error["details"]["retryable"]) == (code, retryable)
    assert error["details"]["reason"] and error["details"]["reason"] in error["message"]
    [failed] = await api.ok("GET", f"/orders/{order['id']}/payments")
    assert (failed["status"], failed["failure_code"], failed["amount"]) == ("failed", code, "299.98")
    assert failed["failure_message"] == error["details"]["reason"] and failed["captured_at"] is None
    assert await _payment_status(api, order) == "failed"  # unpaid

    # A different payment method then succeeds: a second payment, the failed one kept.
    paid = await api.pay(order["id"])
    assert (paid["attempt"], paid["status"]) == (2, "captured")
    assert [p["status"] for p in await api.ok("GET", f"/orders/{order['id']}/payments")] == ["failed", "captured"]
    assert await _payment_status(api, order) == "paid"


async def test_an_unknown_token_is_declined_and_a_missing_one_is_a_validation_error(api: Api) -> None:
    order = await _order(api)
    error = await api.error("POST", f"/orders/{order['id']}/payments", 402, "PAYMENT_FAILED",
                            json={"token": "tok_madeUp"})
    assert error["details"]["provider_code"] == "invalid_token"
    error = await api.error("POST", f"/orders/{order['id']}/payments", 400, "VALIDATION_ERROR", json={})
    assert error["details"] == {"token": ["Token is required"]}
    await api.error("POST", f"/orders/{order['id']}/payments", 400, "VALIDATION_ERROR",
                    json={"token": "tok_visa", "capture": "maybe"})
    await api.error("POST", "/orders/00000000-0000-4000-8000-000000000000/payments", 404, "NOT_FOUND",
                    json={"token": "tok_visa"})
    assert len(await api.ok("GET", f"/orders/{order['id']}/payments")) == 1


async def test_authorize_then_capture_or_void(api: Api) -> None:
    order = await _order(api)
    held = await api.pay(order["id"], capture=False)
    assert (held["status"], held["authorized_at"] is not None, held["captured_at"]) == ("authorized", True, None)
    assert await _payment_status(api, order) == "authorized"
    await api.error("POST", f"/payments/{held['id']}/refund", 422, "INVALID_STATUS_TRANSITION")
    captured = await api.ok("POST", f"/payments/{held['id']}/capture")
    assert (captured["status"], captured["version"]) == ("captured", held["version"] + 1)
    assert captured["provider_reference"] == held["provider_reference"]
    assert await _payment_status(api, order) == "paid"
    await api.error("POST", f"/payments/{held['id']}/capture", 422, "PAYMENT_ALREADY_PROCESSED")
    await api.error("POST", f"/payments/{held['id']}/void", 422, "PAYMENT_ALREADY_PROCESSED")

    other = await _order(api)
    held = await api.pay(other["id"], capture=False)
    voided = await api.ok("POST", f"/payments/{held['id']}/void")
    assert voided["status"] == "voided" and voided["voided_at"] is not None
    assert await _payment_status(api, other) == "pending"
    error = await api.error("POST", f"/payments/{held['id']}/capture", 422, "INVALID_STATUS_TRANSITION")
    assert error["details"] == {"from": "voided", "to": "captured", "allowed": []}
    assert (await api.pay(other["id"]))["attempt"] == 2  # a voided authorization leaves the order payable


async def test_an_order_is_paid_once_and_a_cancelled_one_not_at_all(api: Api) -> None:
    order = await _order(api)
    first = await api.pay(order["id"])
    for token in ("tok_visa", "tok_chargeDeclined"):
        error = await api.error("POST", f"/orders/{order['id']}/payments", 422, "PAYMENT_ALREADY_PROCESSED",
                                json={"token": token})
        assert error["details"] == {"order_id": order["id"], "payment_id": first["id"], "status": "captured"}
    assert await api.ok("GET", f"/orders/{order['id']}/payments") == [first]

    cancelled = await _order(api)
    await api.ok("POST", f"/orders/{cancelled['id']}/cancel")
    error = await api.error("POST", f"/orders/{cancelled['id']}/payments", 422, "INVALID_STATUS_TRANSITION",
                            json={"token": "tok_visa"})
    assert error["details"]["from"] == "cancelled"
    assert await api.ok("GET", f"/orders/{cancelled['id']}/payments") == []


async def test_refund_partial_then_full(api: Api) -> None:
    order = await _order(api)
    payment = await api.pay(order["id"])
    part = await api.ok("POST", f"/payments/{payment['id']}/refund", json={"amount": "100.00"})
    assert (part["status"], part["refunded_amount"]) == ("partially_refunded", "100.00")
    assert await _payment_status(api, order) == "partially_refunded"

    error = await api.error("POST", f"/payments/{payment['id']}/refund", 422, "PAYMENT_ALREADY_PROCESSED",
                            json={"amount": "200.00"})
    assert error["details"] == {"payment_id": payment["id"], "requested": "200.00", "refundable": "199.98"}
    await api.error("POST", f"/payments/{payment['id']}/refund", 400, "VALIDATION_ERROR", json={"amount": "0"})
    await api.error("POST", f"/payments/{payment['id']}/refund", 400, "VALIDATION_ERROR", json={"amount": "-1"})
    assert (await api.ok("GET", f"/payments/{payment['id']}")) == part, "refused refunds change nothing"

    rest = await api.ok("POST", f"/payments/{payment['id']}/refund")  # no body: all that is left
    assert (rest["status"], rest["refunded_amount"]) == ("refunded", "299.98")
    assert await _payment_status(api, order) == "refunded"
    error = await api.error("POST", f"/payments/{payment['id']}/refund", 422, "PAYMENT_ALREADY_PROCESSED",
                            json={"amount": "0.01"})
    assert error["details"]["refundable"] == "0.00"
    assert (await api.ok("GET", f"/orders/{order['id']}"))["status"] == "pending", "the goods are not returned"


async def test_a_cancelled_paid_order_refunded_in_full_is_refunded(api: Api) -> None:
    order = await _order(api)
    payment = await api.pay(order["id"])
    cancelled = await api.ok("POST", f"/orders/{order['id']}/cancel")
    assert (cancelled["status"], cancelled["payment_status"]) == ("cancelled", "paid")
    await api.ok("POST", f"/payments/{payment['id']}/refund")
    refunded = await api.ok("GET", f"/orders/{order['id']}")
    assert (refunded["status"], refunded["payment_status"]) == ("refunded", "refunded")


async def _returned(api: Api, order: dict[str, Any], quantity: int) -> dict[str, Any]:
    ret = await api.ok("POST", "/returns", 201, json={
        "order_id": order["id"], "items": [{"order_item_id": order["items"][0]["id"], "quantity": quantity}]})
    for action in ("approve", "receive", "restock"):
        ret = await api.ok("POST", f"/returns/{ret['id']}/{action}")
    return ret


async def test_a_returns_refund_goes_through_the_payment(api: Api) -> None:
    order = await api.delivered_order()  # two units at 149.99, paid
    [payment] = await api.ok("GET", f"/orders/{order['id']}/payments")
    first = await _returned(api, order, 1)
    assert (await api.ok("POST", f"/returns/{first['id']}/refund"))["status"] == "refunded"
    [payment] = await api.ok("GET", f"/orders/{order['id']}/payments")
    assert (payment["status"], payment["refunded_amount"]) == ("partially_refunded", "149.99")
    partly = await api.ok("GET", f"/orders/{order['id']}")
    assert (partly["status"], partly["payment_status"]) == ("delivered", "partially_refunded")

    second = await _returned(api, order, 1)
    await api.ok("POST", f"/returns/{second['id']}/refund")
    [payment] = await api.ok("GET", f"/orders/{order['id']}/payments")
    assert (payment["status"], payment["refunded_amount"]) == ("refunded", "299.98")
    done = await api.ok("GET", f"/orders/{order['id']}")
    assert (done["status"], done["payment_status"]) == ("refunded", "refunded")


async def test_a_return_refunds_no_more_than_the_payment_holds(api: Api) -> None:
    order = await api.delivered_order()
    [payment] = await api.ok("GET", f"/orders/{order['id']}/payments")
    await api.ok("POST", f"/payments/{payment['id']}/refund", json={"amount": "200.00"})  # 99.98 left
    ret = await _returned(api, order, 1)  # worth 149.99
    error = await api.error("POST", f"/returns/{ret['id']}/refund", 422, "PAYMENT_ALREADY_PROCESSED")
    assert (error["details"]["requested"], error["details"]["refundable"]) == ("149.99", "99.98")
    assert (await api.ok("GET", f"/returns/{ret['id']}"))["status"] == "restocked", "nothing was written"
    assert (await api.ok("GET", f"/payments/{payment['id']}"))["refunded_amount"] == "200.00"


async def test_ten_concurrent_pays_capture_once(api: Api, db: Database) -> None:
    """Half over REST, half over GraphQL, all at once: one capture, nine 422s."""
    order = await _order(api)

    async def rest() -> tuple[int, str]:
        response = await api.call("POST", f"/orders/{order['id']}/payments", json={"token": "tok_visa"})
        body = response.json()
        return response.status_code, body["data"]["status"] if response.status_code == 201 else body["error"]["code"]

    async def graphql() -> tuple[int, str]:
        response = await api.client.post("/graphql", headers=api.headers, json={
            "query": "mutation($o: ID!) { payOrder(orderId: $o, input: {token: \"tok_visa\"}) { status } }",
            "variables": {"o": order["id"]}})
        body = response.json()
        if body.get("errors"):
            extensions = body["errors"][0]["extensions"]
            return extensions["status"], extensions["code"]
        return 201, body["data"]["payOrder"]["status"].lower()

    answers = await asyncio.gather(*[rest() for _ in range(5)], *[graphql() for _ in range(5)])
    assert sorted(answers) == [(201, "captured")] + [(422, "PAYMENT_ALREADY_PROCESSED")] * 9
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
    assert await _payment_status(api, order) == "paid"


async def test_without_a_provider_payments_are_unavailable(api: Api, database_url: str) -> None:
    """Outside development no provider is assumed: paying answers 503 until one is configured, and
    reading payments still works."""
    import httpx

    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    order = await _order(api)
    production = create_app(load_settings(database_url=database_url, env="production",
                                          auth={"jwt_secret": "p" * 40}))
    async with production.router.lifespan_context(production), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=production), base_url="http://testserver") as client:
        unconfigured = Api(client, api.headers, api.db)
        error = await unconfigured.error("POST", f"/orders/{order['id']}/payments", 503, "SERVICE_UNAVAILABLE",
                                         json={"token": "tok_visa"})
        assert "[payments] provider" in error["message"]
        assert await unconfigured.ok("GET", f"/orders/{order['id']}/payments") == []


async def test_a_paid_order_takes_no_new_items(api: Api) -> None:
    order = await _order(api)
    await api.pay(order["id"])
    product = await api.product()
    await api.stock(product["id"], 5)
    error = await api.error("POST", f"/orders/{order['id']}/items", 422, "PAYMENT_ALREADY_PROCESSED",
                            json={"product_id": product["id"], "quantity": 1})
    assert error["details"]["payment_status"] == "paid"
    assert (await api.ok("GET", f"/orders/{order['id']}"))["total"] == "299.98"
