"""Product catalogue operations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import InventoryBalance, InventoryReservation, OrderItem, Product
from stateset_gateway.resolvers import loaders
from stateset_gateway.resolvers.common import get_or_404, touch, validate
from stateset_gateway.resolvers.inputs import ProductCreate, ProductFilter, ProductUpdate, dump
from stateset_gateway.resolvers.pagination import (
    CursorArgs,
    OffsetArgs,
    OffsetPage,
    Page,
    Sort,
    count_of,
    page_of,
    whole_table,
)
from stateset_gateway.resolvers.uniqueness import add_unique, update_unique

KIND = "Product"


async def get_product(db: Database, *, id: Any = None, sku: str | None = None,
                      fields: loaders.Fields = None) -> loaders.Record:
    """One product, by its id or by its SKU: exactly one of the two, else VALIDATION_ERROR on `id`.
    Holding `fields` and its id, when given (loaders.one)."""
    if (id is None) == (sku is None):
        raise errors.ValidationFailed.field("id", "Pass exactly one of id or sku")
    if sku is None:
        return await loaders.one(db, Product, id, KIND, fields)
    product = await loaders.first_where(db, Product.sku, sku.strip(), fields)
    if product is None:
        raise errors.NotFound(f"Product with SKU {sku} not found", {"resource": KIND, "sku": sku})
    return product


async def create_product(db: Database, data: Any) -> Product:
    payload = validate(ProductCreate, data)
    async with db.writer() as session:
        product = Product(**payload.model_dump())
        await add_unique(session, product, Product.sku)
    return product


async def update_product(db: Database, product_id: Any, data: Any) -> Product:
    payload = validate(ProductUpdate, data)
    async with db.writer() as session:
        product = await get_or_404(session, Product, product_id, KIND, lock=True)
        await update_unique(session, product, dump(payload), payload.expected_version, Product.sku)
    return product


async def delete_product(db: Database, product_id: Any) -> None:
    """A product that orders or reservations refer to is archived (inactive) rather than erased."""
    async with db.writer() as session:
        product = await get_or_404(session, Product, product_id, KIND, lock=True)
        referenced = await session.scalar(select(func.count()).where(OrderItem.product_id == product.id)) or \
            await session.scalar(select(func.count()).where(InventoryReservation.product_id == product.id))
        if referenced:
            if product.is_active:
                product.is_active = False
                touch(product)
            return
        for balance in (await session.scalars(
            select(InventoryBalance).where(InventoryBalance.product_id == product.id)
        )).all():
            await session.delete(balance)
        await session.delete(product)


def _filtered(filters: ProductFilter) -> Any:
    stmt = whole_table(Product)
    if filters.sku:
        stmt = stmt.where(Product.sku == filters.sku)
    if filters.is_active is not None:
        stmt = stmt.where(Product.is_active == filters.is_active)
    if filters.search:
        like = f"%{filters.search.lower()}%"
        stmt = stmt.where(or_(func.lower(Product.name).like(like), func.lower(Product.sku).like(like)))
    return stmt


async def list_products(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs, fields: loaders.Fields = None
) -> Page[Product] | OffsetPage[Product]:
    return await page_of(db, _filtered(validate(ProductFilter, filters or {})), Sort(Product.created_at),
                         Product.id, args, fields)


async def count_products(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(ProductFilter, filters or {})))
