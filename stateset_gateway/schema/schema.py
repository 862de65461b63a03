"""The GraphQL schema: each domain's partial Query and Mutation types merged in one place."""

from __future__ import annotations

from functools import cache

import strawberry
from strawberry.tools import merge_types

from stateset_gateway.schema.customers import CustomerMutations, CustomerQueries
from stateset_gateway.schema.fulfillment import FulfillmentMutations, FulfillmentQueries
from stateset_gateway.schema.inventory import InventoryMutations, InventoryQueries
from stateset_gateway.schema.orders import OrderMutations, OrderQueries
from stateset_gateway.schema.products import ProductMutations, ProductQueries

QUERIES: tuple[type, ...] = (CustomerQueries, ProductQueries, InventoryQueries, OrderQueries, FulfillmentQueries)
MUTATIONS: tuple[type, ...] = (
    CustomerMutations, ProductMutations, InventoryMutations, OrderMutations, FulfillmentMutations,
)

try:  # the auth domain contributes `me`, sign-in and API-key fields
    from stateset_gateway.schema.auth import AuthMutations, AuthQueries

    QUERIES = (AuthQueries, *QUERIES)
    MUTATIONS = (AuthMutations, *MUTATIONS)
except ImportError:  # pragma: no cover - only while the auth domain is absent
    pass

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


@cache
def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation)


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"
