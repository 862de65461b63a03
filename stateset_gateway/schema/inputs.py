"""GraphQL input types, each made from the pydantic model its operation validates (resolvers/inputs.py,
auth/inputs.py).

An input is defined once, as the model; here it only gets its GraphQL name. A field is required
exactly when the model requires it (or the input type is told to require it); every other field is
nullable and, when a client leaves it out, absent (UNSET, dropped by `to_input`), so an update
changes only what it names and the model's own defaults apply. Required fields come first (as the
SDL has always listed them), then the rest in the model's order. UUIDs are IDs; constrained strings
and emails are strings; the operation validates.
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Collection, Mapping
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel, EmailStr

from stateset_gateway.auth import inputs as auth_inputs
from stateset_gateway.resolvers import inputs
from stateset_gateway.schema.common import SortDirection

SCALARS: dict[Any, Any] = {uuid.UUID: strawberry.ID, EmailStr: str}

_made: dict[type[BaseModel], type] = {}


def input_type(model: type[BaseModel], name: str | None = None, *, required: Collection[str] = (),
               defaults: Mapping[str, Any] | None = None) -> type:
    """The GraphQL input type of `model`, named `name` (default: the model's name); made once.

    `required` names fields the GraphQL schema requires although the model lets them be absent
    (the operation reports a missing one itself, as REST shows); `defaults` gives optional fields
    the default value the schema shows, in place of absent.
    """
    made = _made.get(model)
    if made is not None:
        if name not in (None, made.__name__) or required or defaults:
            raise ValueError(f"{model.__name__} is already the GraphQL input {made.__name__}: make it once")
        return made
    defaults = defaults or {}
    mandatory: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        graphql_type, nullable = _graphql_type(info.annotation)
        if field_name in required or (info.is_required() and not nullable):
            mandatory[field_name] = graphql_type
        else:
            optional[field_name] = graphql_type | None
    namespace: dict[str, Any] = {"__annotations__": mandatory | optional, "__module__": __name__,
                                 **{field: defaults.get(field, strawberry.UNSET) for field in optional}}
    made = _made[model] = strawberry.input(type(name or model.__name__, (), namespace))
    return made


def _graphql_type(annotation: Any) -> tuple[Any, bool]:
    """(the GraphQL type of a model field's annotation, whether it admits None)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _graphql_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _graphql_type(inner)[0], True
    if origin is list:
        (item,) = get_args(annotation)
        return list[_graphql_type(item)[0]], False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return input_type(annotation), False
    if isinstance(annotation, type) and issubclass(annotation, Enum) and \
            not hasattr(annotation, "__strawberry_definition__"):
        raise TypeError(f"{annotation.__name__} is not a GraphQL enum: wrap it with strawberry.enum first")
    return SCALARS.get(annotation, annotation), False


AddressInput = input_type(inputs.AddressInput)
CustomerAddressInput = input_type(inputs.CustomerAddressInput)
CreateCustomerInput = input_type(inputs.CustomerCreate, "CreateCustomerInput")
UpdateCustomerInput = input_type(inputs.CustomerUpdate, "UpdateCustomerInput")
CustomerFilter = input_type(inputs.CustomerFilter)

CreateProductInput = input_type(inputs.ProductCreate, "CreateProductInput")
UpdateProductInput = input_type(inputs.ProductUpdate, "UpdateProductInput")
ProductFilter = input_type(inputs.ProductFilter)

CreateLocationInput = input_type(inputs.LocationCreate, "CreateLocationInput")
AdjustInventoryInput = input_type(inputs.InventoryAdjust, "AdjustInventoryInput")
ReserveInventoryInput = input_type(inputs.InventoryReserve, "ReserveInventoryInput")

OrderLineInput = input_type(inputs.OrderLineInput)
CreateOrderInput = input_type(inputs.OrderCreate, "CreateOrderInput")
UpdateOrderInput = input_type(inputs.OrderUpdate, "UpdateOrderInput")
OrderFilter = input_type(inputs.OrderFilter)

CreateShipmentInput = input_type(inputs.ShipmentCreate, "CreateShipmentInput")
ReturnLineInput = input_type(inputs.ReturnLineInput)
CreateReturnInput = input_type(inputs.ReturnCreate, "CreateReturnInput")

PayOrderInput = input_type(inputs.PaymentCreate, "PayOrderInput", defaults={"capture": True})
RefundPaymentInput = input_type(inputs.RefundCreate, "RefundPaymentInput")

# GraphQL's schema requires email and password; REST leaves a missing one to the operation's message.
RegisterInput = input_type(auth_inputs.RegisterIn, "RegisterInput", required=("email", "password"))
LoginInput = input_type(auth_inputs.LoginIn, "LoginInput", required=("email", "password"))
CreateApiKeyInput = input_type(auth_inputs.ApiKeyCreateIn, "CreateApiKeyInput", defaults={"expires_at": None})

OrderSortField = strawberry.enum(inputs.OrderSortField, name="OrderSortField")


@strawberry.input
class OrderSort:
    """GraphQL's spelling of REST's `sort_by` / `sort_order` query parameters."""

    field: OrderSortField = OrderSortField.CREATED_AT
    direction: SortDirection = SortDirection.DESC
