"""Product queries and mutations: thin, they call resolvers.products."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import products as ops
from stateset_gateway.schema.common import Connection, GqlInfo, cursor_args, mutation, query, to_input
from stateset_gateway.schema.context import projection_of
from stateset_gateway.schema.inputs import CreateProductInput, ProductFilter, UpdateProductInput
from stateset_gateway.schema.types.catalog import Product


@strawberry.type
class ProductQueries:
    @query("products:read", returns=Product | None, description="One product, by id or by SKU.")
    async def product(
        self, info: GqlInfo, id: strawberry.ID | None = None, sku: str | None = None
    ) -> models.Product:
        return await ops.get_product(info.context.db, id=id, sku=sku, fields=projection_of(info))

    @query("products:read", returns=Connection[Product])
    async def products(
        self, info: GqlInfo, filter: ProductFilter | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db, filters = info.context.db, to_input(filter)
        page = await ops.list_products(db, filters, args=cursor_args(info, first, after, last, before),
                                       fields=projection_of(info))
        return Connection(page=page, counter=lambda: ops.count_products(db, filters))


@strawberry.type
class ProductMutations:
    @mutation("products:create", returns=Product)
    async def create_product(self, info: GqlInfo, input: CreateProductInput) -> models.Product:
        return await ops.create_product(info.context.db, to_input(input))

    @mutation("products:update", returns=Product)
    async def update_product(
        self, info: GqlInfo, id: strawberry.ID, input: UpdateProductInput
    ) -> models.Product:
        return await ops.update_product(info.context.db, id, to_input(input))

    @mutation("products:delete", description="Delete a product; one that orders refer to is archived instead.")
    async def delete_product(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_product(info.context.db, id)
        return True
