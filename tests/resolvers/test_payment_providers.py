"""The provider interface's promise, on the built-in test provider: a call repeated with its key
answers what the first call did, and each documented token has its documented outcome."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers import payments
from stateset_gateway.resolvers.payment_providers import Charge, Declined, TestProvider, idempotency_key
from tests.support.rest_api import Api


def test_keys_name_the_payment_and_the_call() -> None:
    payment = uuid.uuid4()
    assert idempotency_key(payment, 1) == idempotency_key(payment, 1)
    assert len({idempotency_key(payment, 1), idempotency_key(payment, 2), idempotency_key(uuid.uuid4(), 1)}) == 3


async def test_a_repeated_call_answers_the_first_outcome() -> None:
    provider = TestProvider()
    key = idempotency_key(uuid.uuid4(), 1)
    charge = Charge(amount=Decimal("10.00"), currency="USD", token="tok_visa", idempotency_key=key)
    first = await provider.authorize(charge)
    assert await provider.authorize(charge) == first
    assert await provider.authorize(Charge(Decimal("10.00"), "USD", "tok_visa", idempotency_key(uuid.uuid4(), 1))) != first
    refund_key = idempotency_key(uuid.uuid4(), 3)
    assert await provider.refund(first, Decimal("1.00"), refund_key) == await provider.refund(
        first, Decimal("1.00"), refund_key)


@pytest.mark.parametrize(("token", "code", "retryable"), [
    ("tok_chargeDeclined", "card_declined", False),
    ("tok_insufficientFunds", "insufficient_funds", False),
    ("tok_processingError", "processing_error", True),
    ("tok_unknown", "invalid_token", False),
])
async def test_declining_tokens(token: str, code: str, retryable: bool) -> None:
    with pytest.raises(Declined) as declined:
        await TestProvider().authorize(Charge(Decimal("1.00"), "USD", token, "pay_x_1"))
    assert (declined.value.code, declined.value.retryable) == (code, retryable)


class _FailsAfterCharging(TestProvider):
    """The test provider, answering every call, but losing the first authorization's answer (as a
    timeout after the provider charged would): the gateway's transaction rolls back."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def authorize(self, charge: Charge) -> str:
        self.keys.append(charge.idempotency_key)
        reference = await super().authorize(charge)
        if len(self.keys) == 1:
            raise TimeoutError("the answer was lost")
        return reference


async def test_a_pay_retried_after_a_lost_answer_reaches_the_provider_with_the_same_key(api: Api, db: Database) -> None:
    order = await api.stocked_order()
    provider = _FailsAfterCharging()
    with pytest.raises(TimeoutError):
        await payments.pay(db, provider, order["id"], {"token": "tok_visa"})
    assert await api.ok("GET", f"/orders/{order['id']}/payments") == [], "nothing was committed"
    paid = await payments.pay(db, provider, order["id"], {"token": "tok_visa"})
    assert provider.keys[0] == provider.keys[1] == idempotency_key(paid.id, 1)
    assert paid.provider_reference == TestProvider.reference("auth", provider.keys[0])
