from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import Money, UTCDateTime, new_id, utcnow


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    ON_HOLD = "on_hold"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    RETURNED = "returned"


class Order(Versioned, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # Keyset pagination walks (created_at, id); listing a customer's orders walks the same key.
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_customer_id_created_at", "customer_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_number: str = Field(max_length=20, unique=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id")
    status: str = Field(default=OrderStatus.PENDING, max_length=20, index=True)
    payment_status: str = Field(default=PaymentStatus.PENDING, max_length=20)
    fulfillment_status: str = Field(default=FulfillmentStatus.UNFULFILLED, max_length=24)
    currency: str = Field(default="USD", max_length=3)
    subtotal: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    tax_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    shipping_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    discount_total: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    total: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    shipping_address: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    billing_address: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    notes: str | None = Field(default=None, max_length=4000)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    product_id: uuid.UUID = Field(foreign_key="products.id", index=True)
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    quantity: int
    unit_price: Decimal = Field(sa_type=Money, nullable=False)
    line_total: Decimal = Field(sa_type=Money, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
