"""Payments: each attempt to take money for an order, kept as its own record (the order's
`payment_status` is derived from these, never from the order's status)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import Money, UTCDateTime, new_id


class PaymentRecordStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    VOIDED = "voided"


class Payment(Versioned, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        # The n-th payment of an order is one row: two requests racing to record the same attempt
        # cannot both succeed, whatever the database's locking.
        UniqueConstraint("order_id", "attempt", name="uq_payments_order_attempt"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_within_amount"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    attempt: int = Field(description="1 for an order's first payment, 2 for the next, ...")
    amount: Decimal = Field(sa_type=Money, nullable=False)
    currency: str = Field(max_length=3)
    status: str = Field(default=PaymentRecordStatus.PENDING, max_length=20)
    provider: str = Field(max_length=40)
    provider_reference: str | None = Field(default=None, max_length=255)
    provider_calls: int = Field(default=0, description="Calls made to the provider; numbers the next call's key.")
    failure_code: str | None = Field(default=None, max_length=64)
    failure_message: str | None = Field(default=None, max_length=500)
    refunded_amount: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)
    authorized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    captured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refunded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
