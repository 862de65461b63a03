"""REST shapes (CONTRACT section 3) for the OpenAPI document, and the few request bodies that are
REST-only. Request bodies that are operation inputs come from `resolvers/inputs.py` unchanged.

Responses are built by `resolvers/representations.py` (shared with webhook events) and go out as
they are; these models document them, and a test checks each representation validates against its
model and dumps back to itself.

Money is a decimal string ("149.99", never a float), times are RFC3339 UTC ("...Z"), ids UUID strings;
the annotations below make both the JSON and the OpenAPI document say so.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from stateset_gateway.db.models import (
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    ReservationStatus,
    ReturnStatus,
    ShipmentStatus,
)
from stateset_gateway.resolvers.inputs import Input, Version
from stateset_gateway.resolvers.money import MONEY_PATTERN, money_text
from stateset_gateway.resolvers.representations import timestamp


Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["149.99"]}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2025-11-05T10:00:00Z"]}),
]


class Out(BaseModel):
    """A documented response shape (also readable from ORM rows)."""

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
        default=None, description="The order's lines: on GET /orders/{id}, on lists with include_items=true, "
                                  "and in webhook events."
    )


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


# ---- webhooks ------------------------------------------------------------------------------------

class WebhookOut(Resource):
    url: str
    description: str | None
    event_types: list[str] = Field(examples=[["order.created", "shipment.*"]])
    is_active: bool
    disabled_reason: str | None = Field(description="Why the endpoint was disabled automatically, if it was.")


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once (creation, rotation); never again.",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="The delivery id: X-StateSet-Delivery-Id and webhook-id, on every attempt.")
    webhook_id: uuid.UUID
    event_id: str = Field(examples=["evt_3f0c..."])
    event_type: str
    url: str | None
    status: str = Field(examples=["pending"], description="pending, delivered or failed")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    response_time_ms: int | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


__all__ = [
    "CancelRequest", "CustomerOut", "InventoryLevelOut", "LocationOut", "OrderItemOut", "OrderOut", "OrderStatusUpdate",
    "ProductOut", "ReleaseRequest", "ReservationOut", "ReturnOut", "ShipmentOut", "DeliveryOut", "WebhookOut",
    "WebhookSecretOut",
]
