"""Each resource as the REST API shows it and webhook events carry it: plain functions from a row
(an ORM instance) to a JSON-ready dict.

One place, so a REST response and the `data` of an event can never differ. The REST routers answer
with these dicts (their pydantic models in rest_compat/models.py only document the shapes for
OpenAPI; a test checks both agree). Money is a decimal string, times RFC3339 UTC, ids strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers.money import money_text

Representation = dict[str, Any]
ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")


def timestamp(value: datetime | None) -> str | None:
    """RFC3339 in UTC with a `Z` (`2025-11-05T10:00:00.123456Z`); naive values are UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _resource(row: Any) -> Representation:
    return {"id": str(row.id), "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at),
            "version": row.version}


def customer(row: Any) -> Representation:
    return _resource(row) | {"email": row.email, "first_name": row.first_name, "last_name": row.last_name,
                             "phone": row.phone}


def product(row: Any) -> Representation:
    return _resource(row) | {"sku": row.sku, "name": row.name, "description": row.description,
                             "price": money_text(row.price), "currency": row.currency, "is_active": row.is_active}


def inventory_level(row: Any) -> Representation:
    """`available` and `low_stock` are derived, never stored (CONTRACT section 4)."""
    return _resource(row) | {"product_id": str(row.product_id), "location_id": str(row.location_id),
                             "on_hand": row.on_hand, "reserved": row.reserved, "available": derived.available(row),
                             "reorder_point": row.reorder_point, "low_stock": derived.low_stock(row)}


def reservation(row: Any) -> Representation:
    return _resource(row) | {"product_id": str(row.product_id), "location_id": str(row.location_id),
                             "quantity": row.quantity, "status": str(row.status), "order_id": _id(row.order_id),
                             "reference": row.reference}


def location(row: Any) -> Representation:
    return {"id": str(row.id), "code": row.code, "name": row.name, "created_at": timestamp(row.created_at)}


def _address(value: Mapping[str, Any] | None) -> Representation | None:
    return None if value is None else {name: value.get(name) for name in ADDRESS_FIELDS}


def order_item(row: Any) -> Representation:
    return {"id": str(row.id), "order_id": str(row.order_id), "product_id": str(row.product_id), "sku": row.sku,
            "name": row.name, "quantity": row.quantity, "unit_price": money_text(row.unit_price),
            "line_total": money_text(row.line_total), "created_at": timestamp(row.created_at)}


def order(row: Any, items: Iterable[Any] | None = None) -> Representation:
    """An order; with `items`, its lines too (GET /orders/{id}, lists with include_items, events)."""
    return _resource(row) | {
        "order_number": row.order_number, "customer_id": str(row.customer_id), "status": str(row.status),
        "payment_status": str(row.payment_status), "fulfillment_status": str(row.fulfillment_status),
        "currency": row.currency, "subtotal": money_text(row.subtotal), "tax_total": money_text(row.tax_total),
        "shipping_total": money_text(row.shipping_total), "discount_total": money_text(row.discount_total),
        "total": money_text(row.total), "shipping_address": _address(row.shipping_address),
        "billing_address": _address(row.billing_address), "notes": row.notes,
        "delivered_at": timestamp(row.delivered_at), "cancelled_at": timestamp(row.cancelled_at),
        "items": None if items is None else [order_item(item) for item in items],
    }


def shipment(row: Any) -> Representation:
    return _resource(row) | {"order_id": str(row.order_id), "status": str(row.status), "carrier": row.carrier,
                             "tracking_number": row.tracking_number, "shipped_at": timestamp(row.shipped_at),
                             "delivered_at": timestamp(row.delivered_at)}


def return_(row: Any) -> Representation:
    return _resource(row) | {"order_id": str(row.order_id), "status": str(row.status), "reason": row.reason,
                             "refund_amount": money_text(row.refund_amount)}


def webhook(row: Any) -> Representation:
    """An endpoint, never its secret (that is shown once, by the operation that makes it)."""
    return _resource(row) | {"url": row.url, "description": row.description, "event_types": list(row.event_types),
                             "is_active": row.is_active, "disabled_reason": row.disabled_reason}


def delivery(row: Any, url: str | None = None) -> Representation:
    """One delivery as the logs show it: which event, where, how many attempts and how the last went."""
    return {"id": str(row.id), "webhook_id": str(row.webhook_id), "event_id": f"evt_{row.event_id.hex}",
            "event_type": row.event_type, "url": url, "status": str(row.status), "attempts": row.attempts,
            "last_status_code": row.last_status_code, "last_error": row.last_error,
            "response_time_ms": row.last_response_ms, "next_attempt_at": timestamp(row.next_attempt_at),
            "delivered_at": timestamp(row.delivered_at), "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at)}
