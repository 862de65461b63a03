"""The order state machine (CONTRACT section 4), the payment/fulfillment states each status implies,
and how an order's lines add up to its totals."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from stateset_gateway import errors
from stateset_gateway.db.models import FulfillmentStatus, OrderStatus, PaymentStatus

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.PROCESSING, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.EXCHANGED}),
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.EXCHANGED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}
FULFILLED = frozenset({S.SHIPPED, S.DELIVERED})
# Orders whose stock is still held by active reservations.
HOLDS_STOCK = frozenset({S.PENDING, S.CONFIRMED, S.PROCESSING, S.ON_HOLD})
CENT = Decimal("0.01")


def allowed_next(current: str) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[OrderStatus(current)])


def check_transition(current: str, target: str) -> None:
    if target == S.CANCELLED and current in FULFILLED:
        raise errors.OrderAlreadyFulfilled(f"Order is already {current} and can no longer be cancelled")
    if OrderStatus(target) not in TRANSITIONS[OrderStatus(current)]:
        raise errors.InvalidStatusTransition(current, target, allowed_next(current))


def payment_for(status: str) -> str:
    if status in (S.PENDING,):
        return PaymentStatus.PENDING
    if status in (S.CONFIRMED, S.PROCESSING, S.ON_HOLD):
        return PaymentStatus.AUTHORIZED
    if status in (S.REFUNDED,):
        return PaymentStatus.REFUNDED
    if status == S.CANCELLED:
        return PaymentStatus.PENDING
    return PaymentStatus.PAID


def fulfillment_for(status: str) -> str:
    if status == S.SHIPPED:
        return FulfillmentStatus.FULFILLED
    if status in (S.DELIVERED, S.EXCHANGED):
        return FulfillmentStatus.DELIVERED
    if status == S.REFUNDED:
        return FulfillmentStatus.RETURNED
    return FulfillmentStatus.UNFULFILLED


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(CENT)


def order_totals(line_totals: Iterable[Decimal], *, tax: Decimal, shipping: Decimal,
                 discount: Decimal) -> tuple[Decimal, Decimal]:
    """(subtotal, total) of an order with these line totals and charges."""
    subtotal = sum(line_totals, Decimal("0.00")).quantize(CENT)
    return subtotal, (subtotal + tax + shipping - discount).quantize(CENT)
