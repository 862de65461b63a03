"""Values derived from stored rows and never stored themselves (CONTRACT section 4: `available`).

Plain functions of a row (an ORM instance or a loader's row: both have the attribute names), so
every reader computes them the same way: the GraphQL fields call them, and so can anything else
that reads rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PostalAddress:
    """An address as an order stores it: a JSON object, validated on the way in (AddressInput)."""

    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> PostalAddress | None:
        if not value:
            return None
        return cls(**{name: value.get(name) for name in cls.__dataclass_fields__})


def full_name(customer: Any) -> str:
    return f"{customer.first_name} {customer.last_name}"


def available(level: Any) -> int:
    return level.on_hand - level.reserved


def low_stock(level: Any) -> bool:
    return available(level) <= level.reorder_point


def total_available(levels: Iterable[Any]) -> int:
    """A product's stock over all its locations' levels."""
    return sum(available(level) for level in levels)


def public_event_id(raw: Any) -> str:
    """An event's id as its body and the delivery logs show it: `evt_` and the hex of its UUID."""
    return f"evt_{raw.hex}"


def event_id(delivery: Any) -> str:
    """The public id of a delivery's event."""
    return public_event_id(delivery.event_id)


def shipping_address(order: Any) -> PostalAddress | None:
    return PostalAddress.of(order.shipping_address)


def billing_address(order: Any) -> PostalAddress | None:
    return PostalAddress.of(order.billing_address)
