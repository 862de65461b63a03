"""Product queries and mutations: thin, they call resolvers.products."""

from __future__ import annotations

import strawberry

from stateset_gateway.resolvers import products as ops
from stateset_gateway.schema.common import Connection, GqlInfo, cursor_args, mutation, query, to_input
from stateset_gateway.schema.inputs import CreateProductInput, ProductFilter, UpdateProductInput
from stateset_gateway.schema.types.catalog import Product


@strawberry.type
class ProductQueries:
    @query("products:read", description="One product, by id or by SKU.")
    async def product(
        self, info: GqlInfo, id: strawberry.ID | None = None, sku: str | None = None
    ) -> Product | None:
        return await ops.get_product(info.context.db, id=id, sku=sku)

    @query("products:read")
    async def products(
        self, info: GqlInfo, filter: ProductFilter | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Product]:
        db, filters = info.context.db, to_input(filter)
        page = await ops.list_products(db, filters, args=cursor_args(info, first, after, last, before))
        return Connection(page=page, counter=lambda: ops.count_products(db, filters))


@strawberry.type
class ProductMutations:
    @mutation("products:create")
    async def create_product(self, info: GqlInfo, input: CreateProductInput) -> Product:
        return await ops.create_product(info.context.db, to_input(input))

    @mutation("products:update")
    async def update_product(self, info: GqlInfo, id: strawberry.ID, input: UpdateProductInput) -> Product:
        return await ops.update_product(info.context.db, id, to_input(input))

    @mutation("products:delete", description="Delete a product; one that orders refer to is archived instead.")
    async def delete_product(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_product(info.context.db, id)
        return True
