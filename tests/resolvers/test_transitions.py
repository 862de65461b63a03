"""The three state machines, move by move, through `apply_transition` on a real database session."""

from __future__ import annotations

from typing import Any

import pytest

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order, PaymentStatus, Return, Shipment
from stateset_gateway.resolvers.transitions import ORDER, RETURN, SHIPMENT, Machine, apply_transition
from tests.support.machines import ORDER_MOVES, RETURN_MOVES, SHIPMENT_MOVES

CASES = [
    pytest.param(ORDER, Order, ORDER_MOVES, {"cancelled": "cancelled_at", "delivered": "delivered_at"}, id="order"),
    pytest.param(RETURN, Return, RETURN_MOVES, {}, id="return"),
    pytest.param(SHIPMENT, Shipment, SHIPMENT_MOVES, {"shipped": "shipped_at", "delivered": "delivered_at"},
                 id="shipment"),
]


def _row(model: type[Any], status: str) -> Any:
    return model(status=status, version=3, payment_status=PaymentStatus.PENDING) if model is Order \
        else model(status=status, version=3)


@pytest.mark.parametrize(("machine", "model", "moves", "stamps"), CASES)
async def test_every_move_of_each_machine(
    db: Database, machine: Machine, model: type[Any], moves: dict[str, set[str]], stamps: dict[str, str]
) -> None:
    async with db.writer() as session:
        for current, allowed in moves.items():
            for target in moves:
                row = _row(model, current)
                if target in allowed:
                    await apply_transition(session, machine, row, target)
                    assert (row.status, row.version) == (target, 4), (current, target)
                    assert row.updated_at is not None
                    if target in stamps:
                        assert getattr(row, stamps[target]) is not None, (current, target)
                    continue
                with pytest.raises(errors.DomainError) as refused:
                    await apply_transition(session, machine, row, target)
                if machine is ORDER and target == "cancelled" and current in ("shipped", "delivered"):
                    assert refused.value.code == "ORDER_ALREADY_FULFILLED", (current, target)
                else:
                    assert refused.value.code == "INVALID_STATUS_TRANSITION", (current, target)
                    assert refused.value.details == {"from": current, "to": target, "allowed": sorted(allowed)}
                assert (row.status, row.version) == (current, 3), "a refused move changes nothing"


async def test_order_moves_set_fulfillment_and_leave_payment_to_payments(db: Database) -> None:
    """An order's status says where its goods are; whether it is paid is its payments' business
    (resolvers/payments.py), so no move changes `payment_status`."""
    async with db.writer() as session:
        order = _row(Order, "processing")
        await apply_transition(session, ORDER, order, "shipped")
        assert (order.payment_status, order.fulfillment_status) == ("pending", "fulfilled")
        await apply_transition(session, ORDER, order, "delivered")
        assert (order.payment_status, order.fulfillment_status) == ("pending", "delivered")
        await apply_transition(session, ORDER, order, "refunded")
        assert (order.payment_status, order.fulfillment_status) == ("pending", "returned")

        paid = _row(Order, "confirmed")
        paid.payment_status = PaymentStatus.PAID
        await apply_transition(session, ORDER, paid, "cancelled")
        assert paid.payment_status == "paid", "a paid, cancelled order stays paid until refunded"
        unpaid = _row(Order, "confirmed")
        await apply_transition(session, ORDER, unpaid, "cancelled")
        assert (unpaid.payment_status, unpaid.fulfillment_status) == ("pending", "unfulfilled")
