from __future__ import annotations

import uuid

from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import new_id


class Customer(Versioned, table=True):
    __tablename__ = "customers"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=False)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=40)


class CustomerAddress(SQLModel, table=True):
    __tablename__ = "customer_addresses"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    kind: str = Field(default="shipping", max_length=20)
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str = Field(max_length=20)
    country: str = Field(max_length=2)
    is_default: bool = Field(default=False)
