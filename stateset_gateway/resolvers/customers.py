"""Customer operations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Customer, CustomerAddress, Order
from stateset_gateway.resolvers import loaders
from stateset_gateway.resolvers.common import (
    get_or_404,
    parse_id,
    validate,
)
from stateset_gateway.resolvers.inputs import CustomerCreate, CustomerFilter, CustomerUpdate, dump
from stateset_gateway.resolvers.orders import list_orders
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

KIND = "Customer"


async def get_customer(db: Database, customer_id: Any, fields: loaders.Fields = None) -> loaders.Record:
    return await loaders.one(db, Customer, customer_id, KIND, fields)


async def create_customer(db: Database, data: Any) -> Customer:
    payload = validate(CustomerCreate, data)
    async with db.writer() as session:
        customer = Customer(**payload.model_dump(exclude={"addresses"}))
        await add_unique(session, customer, Customer.email)
        for address in payload.addresses:
            session.add(CustomerAddress(customer_id=customer.id, **address.model_dump()))
    return customer


async def update_customer(db: Database, customer_id: Any, data: Any) -> Customer:
    payload = validate(CustomerUpdate, data)
    async with db.writer() as session:
        customer = await get_or_404(session, Customer, customer_id, KIND, lock=True)
        await update_unique(session, customer, dump(payload), payload.expected_version, Customer.email)
    return customer


async def delete_customer(db: Database, customer_id: Any) -> None:
    """Customers with orders keep their history: deleting one is refused."""
    async with db.writer() as session:
        customer = await get_or_404(session, Customer, customer_id, KIND, lock=True)
        if await session.scalar(select(func.count()).where(Order.customer_id == customer.id)):
            raise errors.ValidationFailed.field("customer_id", "Customer has orders and cannot be deleted")
        await session.delete(customer)


def _filtered(filters: CustomerFilter) -> Any:
    stmt = whole_table(Customer)
    if filters.email:
        stmt = stmt.where(Customer.email == filters.email.strip().lower())
    if filters.search:
        like = f"%{filters.search.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Customer.email).like(like),
                func.lower(Customer.first_name).like(like),
                func.lower(Customer.last_name).like(like),
            )
        )
    return stmt


async def list_customers(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs, fields: loaders.Fields = None
) -> Page[Customer] | OffsetPage[Customer]:
    return await page_of(db, _filtered(validate(CustomerFilter, filters or {})), Sort(Customer.created_at),
                         Customer.id, args, fields)


async def count_customers(db: Database, filters: Any = None) -> int:
    return await count_of(db, _filtered(validate(CustomerFilter, filters or {})))


async def customer_orders(
    db: Database, customer_id: Any, *, args: CursorArgs | OffsetArgs
) -> Page[Order] | OffsetPage[Order]:
    await get_customer(db, customer_id)
    return await list_orders(db, {"customer_id": parse_id(customer_id)}, args=args)
