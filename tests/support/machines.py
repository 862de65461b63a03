"""The moves each state machine allows, written out (CONTRACT section 4 for orders; returns and
shipments as the API documents them) rather than read from the code, so a changed machine fails."""

from __future__ import annotations

ORDER_MOVES = {
    "pending": {"confirmed", "processing", "on_hold", "cancelled"},
    "confirmed": {"processing", "on_hold", "cancelled"},
    "processing": {"shipped", "on_hold", "cancelled"},
    "on_hold": {"processing", "cancelled"},
    "shipped": {"delivered"},
    "delivered": {"refunded", "exchanged"},
    "cancelled": {"refunded"},
    "exchanged": {"refunded"},
    "refunded": set(),
}
RETURN_MOVES = {
    "requested": {"approved", "rejected"},
    "approved": {"received"},
    "received": {"restocked"},
    "restocked": {"refunded"},
    "rejected": set(),
    "refunded": set(),
}
SHIPMENT_MOVES = {"pending": {"shipped"}, "shipped": {"delivered"}, "delivered": set()}
