from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import UTCDateTime, new_id, utcnow


class InventoryLocation(SQLModel, table=True):
    __tablename__ = "inventory_locations"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class InventoryBalance(Versioned, table=True):
    """Stock of one product at one location; `available = on_hand - reserved` is never stored."""

    __tablename__ = "inventory_balances"
    __table_args__ = (
        UniqueConstraint("product_id", "location_id", name="uq_inventory_balances_product_location"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    product_id: uuid.UUID = Field(foreign_key="products.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID = Field(foreign_key="inventory_locations.id", index=True)
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)
    reorder_point: int = Field(default=10, description="At or below this `available`, the level is low stock.")


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CONSUMED = "consumed"


class InventoryReservation(Versioned, table=True):
    __tablename__ = "inventory_reservations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    product_id: uuid.UUID = Field(foreign_key="products.id", index=True)
    location_id: uuid.UUID = Field(foreign_key="inventory_locations.id")
    quantity: int
    status: str = Field(default=ReservationStatus.ACTIVE, max_length=20, index=True)
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", index=True)
    reference: str | None = Field(default=None, max_length=200)
