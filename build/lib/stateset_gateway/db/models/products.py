from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Field

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import Money, new_id


class Product(Versioned, table=True):
    __tablename__ = "products"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    sku: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    price: Decimal = Field(sa_type=Money, nullable=False)
    currency: str = Field(default="USD", max_length=3)
    is_active: bool = Field(default=True)
