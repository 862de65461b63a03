"""REST shapes (CONTRACT section 3): what /api/v1 answers and the few request bodies that are
REST-only. Request bodies that are operation inputs come from `resolvers/inputs.py` unchanged.

Money is a decimal string ("149.99", never a float), times are RFC3339 UTC ("...Z"), ids UUID strings;
the annotations below make both the JSON and the OpenAPI document say so.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from stateset_gateway.db.models import (
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    ReservationStatus,
    ReturnStatus,
    ShipmentStatus,
)
from stateset_gateway.resolvers import derived
from stateset_gateway.resolvers.inputs import Input, Version
from stateset_gateway.resolvers.money import MONEY_PATTERN, money_text


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["149.99"]}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(_rfc3339, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2025-11-05T10:00:00Z"]}),
]


class Out(BaseModel):
    """Built from the ORM rows the operations return."""

    model_config = ConfigDict(from_attributes=True)


class Resource(Out):
    id: uuid.UUID
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(description="Bumped by every change; send it back as `expected_version` on PUT.")


# ---- customers -----------------------------------------------------------------------------------

class CustomerOut(Resource):
    email: str
    first_name: str
    last_name: str
    phone: str | None


# ---- products ------------------------------------------------------------------------------------

class ProductOut(Resource):
    sku: str
    name: str
    description: str | None
    price: Money
    currency: str
    is_active: bool


# ---- inventory -----------------------------------------------------------------------------------

class InventoryLevelOut(Resource):
    product_id: uuid.UUID
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved")
    reorder_point: int
    low_stock: bool = Field(description="available <= reorder_point")

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, obj: Any) -> Any:
        """`available` is never stored (CONTRACT section 4): derive it, and low_stock, from the row."""
        if isinstance(obj, dict):
            return obj
        fields = ("id", "created_at", "updated_at", "version", "product_id", "location_id", "on_hand", "reserved",
                  "reorder_point")
        return {name: getattr(obj, name) for name in fields} | {
            "available": derived.available(obj), "low_stock": derived.low_stock(obj)}


class ReservationOut(Resource):
    product_id: uuid.UUID
    location_id: uuid.UUID
    quantity: int
    status: ReservationStatus
    order_id: uuid.UUID | None
    reference: str | None


class LocationOut(Out):
    id: uuid.UUID
    code: str
    name: str
    created_at: Timestamp


class ReleaseRequest(Input):
    """POST /inventory/release: give back a manual hold."""

    reservation_id: uuid.UUID


# ---- orders --------------------------------------------------------------------------------------

class AddressOut(BaseModel):
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str


class OrderItemOut(Out):
    id: uuid.UUID
    order_id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money
    created_at: Timestamp


class OrderOut(Resource):
    order_number: str = Field(examples=["ORD-1A2B3C4D"])
    customer_id: uuid.UUID
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    subtotal: Money
    tax_total: Money
    shipping_total: Money
    discount_total: Money
    total: Money
    shipping_address: AddressOut | None
    billing_address: AddressOut | None
    notes: str | None
    delivered_at: Timestamp | None
    cancelled_at: Timestamp | None
    items: list[OrderItemOut] | None = Field(
        default=None, description="The order's lines: on GET /orders/{id}, and on lists with include_items=true."
    )

    @classmethod
    def with_items(cls, order: Any, items: list[Any] | None) -> OrderOut:
        out = cls.model_validate(order)
        if items is not None:
            out.items = [OrderItemOut.model_validate(item) for item in items]
        return out


class OrderStatusUpdate(Input):
    """PUT /orders/{id}/status: one step along the state machine."""

    status: OrderStatus
    expected_version: Version | None = None


class CancelRequest(Input):
    reason: Annotated[str, Field(max_length=500)] | None = None


# ---- shipments and returns -----------------------------------------------------------------------

class ShipmentOut(Resource):
    order_id: uuid.UUID
    status: ShipmentStatus
    carrier: str
    tracking_number: str
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None


class ReturnOut(Resource):
    order_id: uuid.UUID
    status: ReturnStatus
    reason: str | None
    refund_amount: Money


__all__ = [
    "CancelRequest", "CustomerOut", "InventoryLevelOut", "LocationOut", "OrderItemOut", "OrderOut", "OrderStatusUpdate",
    "ProductOut", "ReleaseRequest", "ReservationOut", "ReturnOut", "ShipmentOut",
]
