"""Inputs of the operations, validated once here whichever transport they came through.

REST uses these models as request bodies; GraphQL input types are converted to them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from stateset_gateway import errors
from stateset_gateway.db.models import OrderStatus, ReturnStatus, ShipmentStatus
from stateset_gateway.resolvers.money import MALFORMED, MONEY_MAX, parse_money

# What an INTEGER column holds on both databases (PostgreSQL's is 32-bit; SQLite's would take more).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NAIVE_INSTANT = "Must carry a UTC offset, e.g. 2099-01-01T00:00:00Z"
INSTANT_RANGE = "Must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"


def _money(value: object) -> Decimal:
    try:
        return parse_money(value)
    except ValueError:
        raise PydanticCustomError("money", MALFORMED) from None


class InvalidInstant(ValueError):
    """An instant the API refuses; its message is the one the client sees."""


def as_utc(value: datetime) -> datetime:
    """An instant in UTC. A time without an offset is refused rather than guessed at: RFC 3339
    (OpenAPI's `date-time`) requires the offset, and guessing a zone would move an instant such as a
    key's expiry by up to a day. Instants whose UTC form falls outside years 1..9999 are refused too."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInstant(NAIVE_INSTANT)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInstant(INSTANT_RANGE) from None


def _instant(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except InvalidInstant as exc:
        raise PydanticCustomError("instant", str(exc)) from None

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
# Money is read by the one parser of both transports (resolvers/money.py), then bounded to NUMERIC(12, 2).
Price = Annotated[
    Decimal,
    BeforeValidator(_money),
    Field(ge=0, le=MONEY_MAX, max_digits=12, decimal_places=2),
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$", "examples": ["149.99"]},
        {"type": "number", "minimum": 0, "maximum": float(MONEY_MAX)},
    ], "description": "Decimal string of at most two decimal places, e.g. \"149.99\""}),
]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
# An optimistic-concurrency version to compare with the stored one (an INTEGER column).
Version = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
# A moment in time, given with its offset and kept in UTC (see `as_utc`).
Instant = Annotated[datetime, AfterValidator(_instant)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # Fields an update may leave out but never set to null (the stored column is NOT NULL).
    not_null: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_nulls(self) -> Input:
        nulls = {name: ["Cannot be null"] for name in sorted(self.not_null)
                 if name in self.model_fields_set and getattr(self, name) is None}
        if nulls:  # raised as is (not a ValueError), so it keeps its per-field details
            raise errors.ValidationFailed(nulls)
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Document a `not_null` field as what it is: optional, never null (omit it to keep the value)."""
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name in cls.not_null:
            prop = properties.get(name)
            if prop is None or "anyOf" not in prop:
                continue
            kept = [alt for alt in prop["anyOf"] if alt.get("type") != "null"]
            rest = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
            properties[name] = {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL cannot store NUL in text; refuse it everywhere so both databases answer alike."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Must not contain NUL characters")
        return value


class AddressInput(Input):
    line1: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    region: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]


class CustomerAddressInput(AddressInput):
    kind: Annotated[str, StringConstraints(pattern=r"^(shipping|billing)$")] = "shipping"
    is_default: bool = False


class CustomerCreate(Input):
    email: EmailStr
    first_name: Name
    last_name: Name
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    addresses: list[CustomerAddressInput] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class CustomerUpdate(Input):
    not_null = frozenset({"email", "first_name", "last_name"})

    email: EmailStr | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    expected_version: Version | None = None

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class CustomerFilter(Input):
    email: str | None = None
    search: Annotated[str, StringConstraints(max_length=200)] | None = None


class ProductCreate(Input):
    sku: Sku
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Text | None = None
    price: Price
    currency: Currency = "USD"
    is_active: bool = True


class ProductUpdate(Input):
    not_null = frozenset({"sku", "name", "price", "currency", "is_active"})

    sku: Sku | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    price: Price | None = None
    description: Text | None = None
    currency: Currency | None = None
    is_active: bool | None = None
    expected_version: Version | None = None


class ProductFilter(Input):
    search: Annotated[str, StringConstraints(max_length=200)] | None = None
    sku: str | None = None
    is_active: bool | None = None


class LocationCreate(Input):
    code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class InventoryFilter(Input):
    product_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    low_stock: bool | None = None


class InventoryAdjust(Input):
    """Change on-hand stock by `delta` (receipts positive, shrinkage negative), creating the level if new."""

    product_id: uuid.UUID
    location_id: uuid.UUID
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None
    reorder_point: Annotated[int, Field(ge=0, le=INT_MAX)] | None = None


class InventoryReserve(Input):
    product_id: uuid.UUID
    quantity: Quantity
    location_id: uuid.UUID | None = None
    reference: Annotated[str, StringConstraints(max_length=200)] | None = None


class OrderLineInput(Input):
    product_id: uuid.UUID
    quantity: Quantity
    location_id: uuid.UUID | None = None


class OrderCreate(Input):
    customer_id: uuid.UUID
    items: list[OrderLineInput] = Field(min_length=1, max_length=250)
    currency: Currency | None = None
    shipping_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    notes: Text | None = None


class OrderUpdate(Input):
    shipping_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    notes: Text | None = None
    expected_version: Version | None = None


class OrderSortField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TOTAL = "total"
    ORDER_NUMBER = "order_number"


class OrderFilter(Input):
    status: OrderStatus | None = None
    customer_id: uuid.UUID | None = None
    created_from: Instant | None = None
    created_to: Instant | None = None
    search: Annotated[str, StringConstraints(max_length=200)] | None = None


class ShipmentCreate(Input):
    order_id: uuid.UUID
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ShipmentFilter(Input):
    order_id: uuid.UUID | None = None
    status: ShipmentStatus | None = None


class ReturnLineInput(Input):
    order_item_id: uuid.UUID
    quantity: Quantity


class ReturnCreate(Input):
    order_id: uuid.UUID
    items: list[ReturnLineInput] = Field(min_length=1, max_length=250)
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None


class ReturnFilter(Input):
    order_id: uuid.UUID | None = None
    status: ReturnStatus | None = None


class PaymentCreate(Input):
    """Pay for an order: the provider's token for the payment method (the test provider's are in the
    README), and whether to take the money now or only hold it (capture it later)."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    capture: bool = True


class RefundCreate(Input):
    """Give back `amount` of a captured payment; all that is left when omitted."""

    amount: Price | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    """Only the fields the caller set: an update never clears what it did not mention."""
    return model.model_dump(exclude_unset=True, exclude={"expected_version"}, mode="python")
