"""The three state machines (orders, returns, shipments) as data, and the one way to move a row along one.

Orders move from three places (their own operations, shipping and refunding a return), so the stock
effects of an order's move are declared with its machine and happen wherever the move is made:
cancelling releases the reserved stock, shipping consumes it (CONTRACT section 4). A return or a
shipment moves only from its own module, which does that move's work after `apply_transition`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway import errors
from stateset_gateway.db.models import (
    FulfillmentStatus,
    Order,
    OrderStatus,
    ReturnStatus,
    ShipmentStatus,
)
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import inventory
from stateset_gateway.resolvers.common import touch

Effect = Callable[[AsyncSession, Any], Awaitable[None]]


@dataclass(frozen=True)
class Machine:
    """Which statuses follow which, and what entering a status does besides setting it."""

    moves: Mapping[str, frozenset[str]]
    stamps: Mapping[str, str] = field(default_factory=dict)
    """Status -> the timestamp column set when a row enters it."""
    effects: Mapping[str, Effect] = field(default_factory=dict)
    """Status -> work done in the same transaction when a row enters it."""
    settle: Callable[[Any, str], None] | None = None
    """Sets the columns derived from the new status (an order's fulfillment state; its payment state
    follows its payments, resolvers/payments.py, never its status)."""
    fulfilled: frozenset[str] = frozenset()
    """Statuses that can no longer be cancelled: ORDER_ALREADY_FULFILLED, not a plain refusal."""

    def allowed(self, current: str) -> list[str]:
        return sorted(self.moves[current])

    def allows(self, current: str, target: str) -> bool:
        return target in self.moves[current]

    def check(self, current: str, target: str) -> None:
        if target == OrderStatus.CANCELLED and current in self.fulfilled:
            raise errors.OrderAlreadyFulfilled(f"Order is already {current} and can no longer be cancelled")
        if not self.allows(current, target):
            raise errors.InvalidStatusTransition(current, target, self.allowed(current))


async def apply_transition(session: AsyncSession, machine: Machine, row: Any, target: str) -> None:
    """Move `row` to `target`: refused moves raise before anything changes; an allowed one runs its
    effect, stamps its timestamp, sets the status and what derives from it, and bumps the version."""
    machine.check(row.status, target)
    effect = machine.effects.get(target)
    if effect is not None:
        await effect(session, row)
    stamp = machine.stamps.get(target)
    if stamp is not None:
        setattr(row, stamp, utcnow())
    row.status = target
    if machine.settle is not None:
        machine.settle(row, target)
    touch(row)


# ---- orders --------------------------------------------------------------------------------------

S = OrderStatus
FULFILLED = frozenset({S.SHIPPED, S.DELIVERED})
# Orders whose stock is still held by active reservations.
HOLDS_STOCK = frozenset({S.PENDING, S.CONFIRMED, S.PROCESSING, S.ON_HOLD})


def fulfillment_for(status: str) -> str:
    if status == S.SHIPPED:
        return FulfillmentStatus.FULFILLED
    if status in (S.DELIVERED, S.EXCHANGED):
        return FulfillmentStatus.DELIVERED
    if status == S.REFUNDED:
        return FulfillmentStatus.RETURNED
    return FulfillmentStatus.UNFULFILLED


def _settle_order(order: Order, target: str) -> None:
    order.fulfillment_status = fulfillment_for(target)


async def _release_stock(session: AsyncSession, order: Order) -> None:
    await inventory.release_for_order(session, order.id)


async def _consume_stock(session: AsyncSession, order: Order) -> None:
    await inventory.consume_for_order(session, order.id)


ORDER = Machine(
    moves={
        S.PENDING: frozenset({S.CONFIRMED, S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
        S.CONFIRMED: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
        S.PROCESSING: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
        S.ON_HOLD: frozenset({S.PROCESSING, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
        S.DELIVERED: frozenset({S.REFUNDED, S.EXCHANGED}),
        S.CANCELLED: frozenset({S.REFUNDED}),
        S.EXCHANGED: frozenset({S.REFUNDED}),
        S.REFUNDED: frozenset(),
    },
    stamps={S.CANCELLED: "cancelled_at", S.DELIVERED: "delivered_at"},
    effects={S.CANCELLED: _release_stock, S.SHIPPED: _consume_stock},
    settle=_settle_order,
    fulfilled=FULFILLED,
)

# ---- returns and shipments -----------------------------------------------------------------------

R = ReturnStatus
RETURN = Machine(
    moves={
        R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
        R.APPROVED: frozenset({R.RECEIVED}),
        R.RECEIVED: frozenset({R.RESTOCKED}),
        R.RESTOCKED: frozenset({R.REFUNDED}),
        R.REJECTED: frozenset(),
        R.REFUNDED: frozenset(),
    },
)

SHIPMENT = Machine(
    moves={
        ShipmentStatus.PENDING: frozenset({ShipmentStatus.SHIPPED}),
        ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED}),
        ShipmentStatus.DELIVERED: frozenset(),
    },
    stamps={ShipmentStatus.SHIPPED: "shipped_at", ShipmentStatus.DELIVERED: "delivered_at"},
)
