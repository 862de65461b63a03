"""The GraphQL schema: each domain's partial Query and Mutation types merged in one place, and the
Subscription type (schema/subscriptions.py)."""

from __future__ import annotations

from functools import cache

import strawberry
from strawberry.tools import merge_types

from stateset_gateway.schema.auth import AuthMutations, AuthQueries
from stateset_gateway.schema.customers import CustomerMutations, CustomerQueries
from stateset_gateway.schema.fulfillment import FulfillmentMutations, FulfillmentQueries
from stateset_gateway.schema.inventory import InventoryMutations, InventoryQueries
from stateset_gateway.schema.orders import OrderMutations, OrderQueries
from stateset_gateway.schema.payments import PaymentMutations, PaymentQueries
from stateset_gateway.schema.products import ProductMutations, ProductQueries
from stateset_gateway.schema.subscriptions import Subscription
from stateset_gateway.schema.types.scalars import OVERRIDES
from stateset_gateway.schema.webhooks import WebhookMutations, WebhookQueries

# The order here is the order of the fields in the SDL (schema.graphql).
QUERIES: tuple[type, ...] = (
    AuthQueries, CustomerQueries, ProductQueries, InventoryQueries, OrderQueries, FulfillmentQueries,
    PaymentQueries, WebhookQueries,
)
MUTATIONS: tuple[type, ...] = (
    AuthMutations, CustomerMutations, ProductMutations, InventoryMutations, OrderMutations,
    FulfillmentMutations, PaymentMutations, WebhookMutations,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


@cache
def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription, scalar_overrides=OVERRIDES)


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"
