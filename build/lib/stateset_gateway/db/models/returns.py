from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import Money, new_id


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    RESTOCKED = "restocked"
    REFUNDED = "refunded"


class Return(Versioned, table=True):
    __tablename__ = "returns"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    status: str = Field(default=ReturnStatus.REQUESTED, max_length=20, index=True)
    reason: str | None = Field(default=None, max_length=1000)
    refund_amount: Decimal = Field(default=Decimal("0.00"), sa_type=Money, nullable=False)


class ReturnItem(SQLModel, table=True):
    __tablename__ = "return_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    return_id: uuid.UUID = Field(foreign_key="returns.id", index=True, ondelete="CASCADE")
    order_item_id: uuid.UUID = Field(foreign_key="order_items.id", index=True)
    product_id: uuid.UUID = Field(foreign_key="products.id")
    quantity: int
