"""Payments: pay for an order, capture an authorization, refund, void, all through the configured
provider (resolvers/payment_providers.py), each payment kept as its own record.

Every operation locks the order, then its payments, and calls the provider inside that transaction,
so concurrent pays of one order run one after another: the first takes the money, the others find it
taken and answer 422 PAYMENT_ALREADY_PROCESSED. A decline is committed (the failed payment stays on
record, with its `payment.failed` event) before the operation answers 402 PAYMENT_FAILED. A provider
call's idempotency key is made from the payment and the number of the call, both fixed by what is
committed, so a call repeated after a rollback reaches the provider with the key it already saw.

The order's `payment_status` is settled from its payments here and nowhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order, OrderStatus, Payment, PaymentRecordStatus, PaymentStatus
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import events, loaders, representations
from stateset_gateway.resolvers.common import get_or_404, parse_id, touch, validate
from stateset_gateway.resolvers.inputs import PaymentCreate, RefundCreate
from stateset_gateway.resolvers.money import money_text
from stateset_gateway.resolvers.payment_providers import Charge, Declined, PaymentProvider, idempotency_key
from stateset_gateway.resolvers.transitions import ORDER, Machine, apply_transition

KIND = "Payment"
P = PaymentRecordStatus
# Payments that leave the order open to another attempt; any other status means it is dealt with.
SETTLED_WITHOUT_MONEY = frozenset({P.FAILED, P.VOIDED})
REFUNDABLE = frozenset({P.CAPTURED, P.PARTIALLY_REFUNDED})
UNPAYABLE_ORDERS = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})
PAYMENT = Machine(moves={
    P.PENDING: frozenset({P.AUTHORIZED, P.FAILED}),
    P.AUTHORIZED: frozenset({P.CAPTURED, P.VOIDED}),
    P.CAPTURED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.REFUNDED: frozenset(),
    P.FAILED: frozenset(),
    P.VOIDED: frozenset(),
})
"""Which status a payment may move to; the refusals answer INVALID_STATUS_TRANSITION."""
# Payment ids follow from the order and the attempt, so a rolled-back attempt retried is the same payment.
PAYMENT_IDS = uuid.UUID("5d1c7a52-0e35-4d8b-9a8e-6f0c1b2a3d4e")


def payment_id(order_id: uuid.UUID, attempt: int) -> uuid.UUID:
    return uuid.uuid5(PAYMENT_IDS, f"{order_id}:{attempt}")


# ---- the order's payment status ------------------------------------------------------------------

def order_payment_status(payments: Sequence[Any]) -> str:
    """What an order's payments (oldest first) say of it: money taken (paid, partly or wholly
    refunded), held (authorized), being taken (pending), or none, after a failure (failed) or not."""
    taken = [p for p in payments if p.status in (P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED)]
    if taken:
        if all(p.status == P.REFUNDED for p in taken):
            return PaymentStatus.REFUNDED
        if any(p.refunded_amount > 0 for p in taken):
            return PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.PAID
    if any(p.status == P.AUTHORIZED for p in payments):
        return PaymentStatus.AUTHORIZED
    if payments and payments[-1].status == P.FAILED:
        return PaymentStatus.FAILED
    return PaymentStatus.PENDING


async def _settle(session: AsyncSession, order: Order, payments: Sequence[Payment]) -> None:
    """The order's payment status from its payments; a change is a change of the order
    (`order.updated`, with the version it bumped)."""
    status = order_payment_status(payments)
    if order.payment_status != status:
        order.payment_status = status
        touch(order)
        await events.order_changed(session, order, was=order.status)


async def _payments_of(session: AsyncSession, order_id: uuid.UUID) -> list[Payment]:
    """The order's payments, oldest first, locked (the order is locked first, always)."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt).with_for_update()
    return list((await session.scalars(stmt)).all())


async def _locked(session: AsyncSession, payment_key: Any) -> tuple[Order, Payment, list[Payment]]:
    """A payment with its order and the order's payments, locked in the order every operation uses."""
    ident = parse_id(payment_key)
    order_id = await session.scalar(select(Payment.order_id).where(Payment.id == ident))
    if order_id is None:
        raise errors.NotFound.resource(KIND, ident)
    order = await get_or_404(session, Order, order_id, "Order", lock=True)
    payments = await _payments_of(session, order.id)
    return order, next(p for p in payments if p.id == ident), payments


def _next_key(payment: Payment) -> str:
    payment.provider_calls += 1
    return idempotency_key(payment.id, payment.provider_calls)


def _failed(payment: Payment, declined: Declined) -> errors.PaymentFailed:
    payment.failure_code = declined.code[:64]
    payment.failure_message = declined.message[:500]
    retry = "try again" if declined.retryable else "try a different payment method"
    return errors.PaymentFailed(f"Payment processing failed: {declined.message} ({retry})", {
        "reason": declined.message, "provider_code": declined.code, "retryable": declined.retryable})


def _check(payment: Payment, target: str) -> None:
    """Refuse a move the payment machine does not allow; money already taken is 422
    PAYMENT_ALREADY_PROCESSED rather than a plain refusal."""
    if PAYMENT.allows(payment.status, target):
        return
    if payment.status in (P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED) and target in (P.CAPTURED, P.VOIDED):
        raise errors.PaymentAlreadyProcessed(f"Payment {payment.id} is already {payment.status}",
                                             {"payment_id": str(payment.id), "status": payment.status})
    PAYMENT.check(payment.status, target)


# ---- operations ----------------------------------------------------------------------------------

async def pay(db: Database, provider: PaymentProvider, order_id: Any, data: Any) -> Payment:
    """Charge the order's total to the payment method `token` (authorized, and captured unless
    `capture` is false). A decline records the failed payment and answers 402 PAYMENT_FAILED."""
    payload = validate(PaymentCreate, data)
    failure: errors.PaymentFailed | None = None
    async with db.writer() as session:
        order = await get_or_404(session, Order, order_id, "Order", lock=True)
        if order.status in UNPAYABLE_ORDERS:
            raise errors.InvalidStatusTransition(order.status, PaymentStatus.PAID, [])
        payments = await _payments_of(session, order.id)
        done = next((p for p in payments if p.status not in SETTLED_WITHOUT_MONEY), None)
        if done is not None:
            raise errors.PaymentAlreadyProcessed(
                f"Order {order.order_number} already has a payment ({done.status})",
                {"order_id": str(order.id), "payment_id": str(done.id), "status": done.status})
        if order.total <= 0:
            raise errors.ValidationFailed.field("order_id", "The order's total is 0.00: there is nothing to pay")
        attempt = len(payments) + 1
        payment = Payment(id=payment_id(order.id, attempt), order_id=order.id, attempt=attempt, amount=order.total,
                          currency=order.currency, provider=provider.name)
        session.add(payment)
        try:
            payment.provider_reference = await provider.authorize(
                Charge(amount=payment.amount, currency=payment.currency, token=payload.token,
                       idempotency_key=_next_key(payment)))
            payment.status, payment.authorized_at = P.AUTHORIZED, utcnow()
        except Declined as declined:
            payment.status = P.FAILED
            failure = _failed(payment, declined)
        if failure is None and payload.capture:
            failure = await _capture(provider, payment)
        await session.flush([payment])
        await _settle(session, order, [*payments, payment])
        if failure is not None:
            await events.record_event(session, "payment.failed", representations.payment(payment))
        elif payment.status == P.CAPTURED:
            await events.record_event(session, "payment.succeeded", representations.payment(payment))
    if failure is not None:
        raise failure
    return payment


async def _capture(provider: PaymentProvider, payment: Payment) -> errors.PaymentFailed | None:
    assert payment.provider_reference is not None  # an authorization always has one
    try:
        await provider.capture(payment.provider_reference, payment.amount, _next_key(payment))
    except Declined as declined:
        return _failed(payment, declined)  # still authorized: the hold stands until captured or voided
    payment.status, payment.captured_at = P.CAPTURED, utcnow()
    payment.failure_code = payment.failure_message = None
    return None


async def capture(db: Database, provider: PaymentProvider, payment_key: Any) -> Payment:
    """Take the money of an authorized payment."""
    failure: errors.PaymentFailed | None = None
    async with db.writer() as session:
        order, payment, payments = await _locked(session, payment_key)
        _check(payment, P.CAPTURED)
        failure = await _capture(provider, payment)
        touch(payment)
        await _settle(session, order, payments)
        if failure is not None:
            await events.record_event(session, "payment.failed", representations.payment(payment))
        else:
            await session.flush([payment])
            await events.record_event(session, "payment.succeeded", representations.payment(payment))
    if failure is not None:
        raise failure
    return payment


async def void(db: Database, provider: PaymentProvider, payment_key: Any) -> Payment:
    """Release an authorization that will not be captured."""
    async with db.writer() as session:
        order, payment, payments = await _locked(session, payment_key)
        _check(payment, P.VOIDED)
        assert payment.provider_reference is not None
        try:
            await provider.void(payment.provider_reference, _next_key(payment))
        except Declined as declined:
            raise _failed(payment, declined) from None  # rolled back: nothing changed
        payment.status, payment.voided_at = P.VOIDED, utcnow()
        touch(payment)
        await _settle(session, order, payments)
    return payment


async def refund(db: Database, provider: PaymentProvider, payment_key: Any, data: Any = None) -> Payment:
    """Give back `amount` (default: all that is left) of a captured payment. A cancelled order whose
    money is all given back is then refunded."""
    payload = validate(RefundCreate, data or {})
    async with db.writer() as session:
        order, payment, payments = await _locked(session, payment_key)
        if payment.status == P.REFUNDED:
            raise _over_refund(payment, payment.amount if payload.amount is None else payload.amount)
        _check(payment, P.REFUNDED)
        await _refund(session, provider, order, payment, payload.amount, payments)
        if order.status == OrderStatus.CANCELLED and order.payment_status == PaymentStatus.REFUNDED:
            await apply_transition(session, ORDER, order, OrderStatus.REFUNDED)
    return payment


def _over_refund(payment: Payment, requested: Decimal) -> errors.PaymentAlreadyProcessed:
    left = payment.amount - payment.refunded_amount if payment.status in REFUNDABLE else Decimal("0.00")
    return errors.PaymentAlreadyProcessed(
        f"Cannot refund {money_text(requested)}: {money_text(left)} of payment {payment.id} is left to refund",
        {"payment_id": str(payment.id), "requested": money_text(requested), "refundable": money_text(left)})


async def _refund(session: AsyncSession, provider: PaymentProvider, order: Order, payment: Payment,
                  amount: Decimal | None, payments: Sequence[Payment]) -> None:
    left = payment.amount - payment.refunded_amount
    amount = left if amount is None else amount
    if amount <= 0:
        raise errors.ValidationFailed.field("amount", "Must be greater than 0")
    if amount > left:
        raise _over_refund(payment, amount)
    assert payment.provider_reference is not None
    try:
        await provider.refund(payment.provider_reference, amount, _next_key(payment))
    except Declined as declined:
        raise _failed(payment, declined) from None  # rolled back: the payment is as it was
    payment.refunded_amount += amount
    payment.status = P.REFUNDED if payment.refunded_amount == payment.amount else P.PARTIALLY_REFUNDED
    payment.refunded_at = utcnow()
    touch(payment)
    await session.flush([payment])
    await _settle(session, order, payments)
    await events.record_event(session, "payment.refunded", representations.payment(payment))


async def refund_order(session: AsyncSession, provider: PaymentProvider, order: Order, amount: Decimal) -> None:
    """Give back `amount` of what the order's payment captured, inside the caller's transaction
    (a return's refund); the order must be locked by the caller."""
    if amount <= 0:
        return
    payments = await _payments_of(session, order.id)
    payment = next((p for p in payments if p.status in REFUNDABLE), None)
    if payment is None:
        raise errors.PaymentAlreadyProcessed(
            f"Cannot refund {money_text(amount)}: nothing captured for order {order.order_number} is left to refund",
            {"order_id": str(order.id), "requested": money_text(amount), "refundable": "0.00"})
    await _refund(session, provider, order, payment, amount, payments)


# ---- queries -------------------------------------------------------------------------------------

async def get_payment(db: Database, payment_key: Any) -> Payment:
    async with db.reader() as session:
        return await get_or_404(session, Payment, payment_key, KIND)


async def list_order_payments(db: Database, order_id: Any) -> list[Any]:
    """An order's payments, oldest first (bounded by the order, so not paged)."""
    async with db.reader() as session:
        await get_or_404(session, Order, order_id, "Order")
    return (await loaders.payments_by_order(db, [parse_id(order_id)]))[0]
