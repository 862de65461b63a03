"""Payments: each attempt to take money for an order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import loaders as batch
from stateset_gateway.schema.relations import relation

Order = Annotated["Order", strawberry.lazy("stateset_gateway.schema.types.orders")]

PaymentRecordStatus = strawberry.enum(models.PaymentRecordStatus, name="PaymentRecordStatus")


@strawberry.type
class Payment:
    id: strawberry.ID
    attempt: int
    amount: Decimal
    currency: str
    status: PaymentRecordStatus
    provider: str
    provider_reference: str | None
    failure_code: str | None
    failure_message: str | None
    refunded_amount: Decimal
    authorized_at: datetime | None
    captured_at: datetime | None
    refunded_at: datetime | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    order_id: strawberry.ID

    order = relation(Order, loader=batch.orders, key="order_id", permission="orders:read")
