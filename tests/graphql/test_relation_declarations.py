"""Every field of a stored type is a column of its row, a declared relation, or a declared derived value.

The declarations (schema/relations.py) are what the resolvers are built from and what a batching
executor reads, so a hand-written resolver, a loader that does not exist or a key that is not a
column fails here rather than in production.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_nullable_type
from sqlalchemy import inspect as sa_inspect

from stateset_gateway.db import models
from stateset_gateway.resolvers import derived, loaders
from stateset_gateway.schema.permissions import RelationPermission
from stateset_gateway.schema.relations import Derived, Relation, Shape, declaration_of
from stateset_gateway.schema.schema import build_schema
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient

# The table each stored GraphQL type reads its rows from.
TABLES: dict[str, type[Any]] = {
    "Customer": models.Customer,
    "CustomerAddress": models.CustomerAddress,
    "Product": models.Product,
    "Location": models.InventoryLocation,
    "InventoryLevel": models.InventoryBalance,
    "Reservation": models.InventoryReservation,
    "Order": models.Order,
    "OrderItem": models.OrderItem,
    "Payment": models.Payment,
    "Return": models.Return,
    "ReturnItem": models.ReturnItem,
    "Shipment": models.Shipment,
    "Webhook": models.Webhook,
    "WebhookDelivery": models.WebhookDelivery,
}
TYPES_PACKAGE = "stateset_gateway.schema.types."


def _stored_types() -> dict[str, GraphQLObjectType]:
    """The object types defined in schema/types/ that read a table's rows (Address reads a JSON value)."""
    found = {}
    for name, graphql_type in build_schema()._schema.type_map.items():
        origin = getattr((graphql_type.extensions or {}).get("strawberry-definition"), "origin", None)
        module = getattr(origin, "__module__", "")
        if isinstance(graphql_type, GraphQLObjectType) and module.startswith(TYPES_PACKAGE):
            found[name] = graphql_type
    found.pop("Address")
    return found


def _columns(table: type[Any]) -> set[str]:
    return {attribute.key for attribute in sa_inspect(table).column_attrs}


def test_every_stored_type_names_its_table() -> None:
    assert set(_stored_types()) == set(TABLES)


FIELDS = [(type_name, field_name, graphql_field)
          for type_name, graphql_type in sorted(_stored_types().items())
          for field_name, graphql_field in graphql_type.fields.items()]


@pytest.mark.parametrize(("type_name", "field_name", "graphql_field"), FIELDS,
                         ids=[f"{t}.{n}" for t, n, _ in FIELDS])
def test_field_is_a_column_or_declared(type_name: str, field_name: str, graphql_field: Any) -> None:
    field = graphql_field.extensions["strawberry-definition"]
    declared = declaration_of(field)
    columns = _columns(TABLES[type_name])
    if field.base_resolver is None:
        assert declared is None
        assert field.python_name in columns, f"{type_name}.{field_name} is neither a column nor declared"
        return
    assert declared is not None, f"{type_name}.{field_name} has a hand-written resolver: declare it instead"
    if isinstance(declared, Derived):
        assert getattr(derived, declared.function.__name__) is declared.function
        return
    assert isinstance(declared, Relation)
    assert getattr(loaders, declared.loader.__name__) is declared.loader
    assert declared.key in columns, f"{type_name}.{field_name}: key {declared.key!r} is not a column"
    if declared.count is not None:
        assert getattr(loaders, declared.count.__name__) is declared.count
    assert [e.permission for e in field.extensions if isinstance(e, RelationPermission)] == (
        [declared.permission] if declared.permission else [])
    assert declared.nullable is not isinstance(graphql_field.type, GraphQLNonNull)
    answer = get_nullable_type(graphql_field.type)
    expected = {Shape.ONE: GraphQLObjectType, Shape.MANY: GraphQLList, Shape.SCALAR: GraphQLScalarType,
                Shape.CONNECTION: GraphQLObjectType}[declared.shape]
    assert isinstance(answer, expected)
    if isinstance(answer, GraphQLObjectType):
        assert answer.name.endswith("Connection") is (declared.shape is Shape.CONNECTION)


async def test_order_addresses_read_from_the_stored_json(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    address = {"line1": "1 Main St", "city": "Austin", "postalCode": "78701", "country": "us"}
    made = await gql("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                     {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 1}],
                            "shippingAddress": address}})
    view = await gql("query($id: ID!) { order(id: $id) { shippingAddress { line1 line2 city region "
                     "postalCode country } billingAddress { line1 } } }", {"id": made["createOrder"]["id"]})
    assert view["order"] == {"shippingAddress": {**address, "country": "US", "line2": None, "region": None},
                             "billingAddress": None}


async def test_customer_orders_first_page_size_is_bounded(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    err = await gql.error("query($id: ID!) { customer(id: $id) { orders(first: -1) { nodes { id } } } }",
                          {"id": c["id"]})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert err["extensions"]["details"] == {"first": ["Must be between 0 and 100"]}
