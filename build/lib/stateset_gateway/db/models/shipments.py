from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import UTCDateTime, new_id


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class Shipment(Versioned, table=True):
    __tablename__ = "shipments"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    status: str = Field(default=ShipmentStatus.PENDING, max_length=20, index=True)
    carrier: str = Field(max_length=50)
    tracking_number: str = Field(max_length=100, unique=True)
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
