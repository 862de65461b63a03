"""Customer queries and mutations: thin, they call resolvers.customers."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import customers as ops
from stateset_gateway.schema.common import (
    Connection,
    GqlInfo,
    cursor_args,
    mutation,
    query,
    to_input,
)
from stateset_gateway.schema.context import projection_of
from stateset_gateway.schema.inputs import CreateCustomerInput, CustomerFilter, UpdateCustomerInput
from stateset_gateway.schema.types.customers import Customer


@strawberry.type
class CustomerQueries:
    @query("customers:read", returns=Customer | None)
    async def customer(self, info: GqlInfo, id: strawberry.ID) -> models.Customer:
        return await ops.get_customer(info.context.db, id, projection_of(info))

    @query("customers:read", returns=Connection[Customer])
    async def customers(
        self, info: GqlInfo, filter: CustomerFilter | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db, filters = info.context.db, to_input(filter)
        page = await ops.list_customers(db, filters, args=cursor_args(info, first, after, last, before),
                                        fields=projection_of(info))
        return Connection(page=page, counter=lambda: ops.count_customers(db, filters))


@strawberry.type
class CustomerMutations:
    @mutation("customers:create", returns=Customer)
    async def create_customer(self, info: GqlInfo, input: CreateCustomerInput) -> models.Customer:
        return await ops.create_customer(info.context.db, to_input(input))

    @mutation("customers:update", returns=Customer)
    async def update_customer(
        self, info: GqlInfo, id: strawberry.ID, input: UpdateCustomerInput
    ) -> models.Customer:
        return await ops.update_customer(info.context.db, id, to_input(input))

    @mutation("customers:delete")
    async def delete_customer(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_customer(info.context.db, id)
        return True
