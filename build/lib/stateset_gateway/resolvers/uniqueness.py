"""Unique fields: a friendly DUPLICATE_ENTRY before writing, and the database's word when two writers race."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from stateset_gateway import errors
from stateset_gateway.resolvers.common import apply_changes, check_version, touch


async def ensure_unique(
    session: AsyncSession, column: InstrumentedAttribute[Any], value: Any, field: str, *, exclude_id: Any = None
) -> None:
    stmt = select(func.count()).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(column.class_.id != exclude_id)
    if await session.scalar(stmt):
        raise errors.DuplicateEntry(field, value)


@asynccontextmanager
async def unique_guard(session: AsyncSession, fields: dict[str, Any]) -> AsyncIterator[None]:
    """Flush inside a savepoint; a unique violation names the field (from the constraint) and its value."""
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except sa_exc.IntegrityError as exc:
        message = str(exc.orig).lower()
        if "unique" in message or "duplicate key" in message:
            for field, value in fields.items():
                if field in message:
                    raise errors.DuplicateEntry(field, value) from None
        raise


async def add_unique(session: AsyncSession, obj: Any, column: InstrumentedAttribute[Any]) -> None:
    """Insert a resource whose `column` must be unique: DUPLICATE_ENTRY names the field and value."""
    value = getattr(obj, column.key)
    await ensure_unique(session, column, value, column.key)
    async with unique_guard(session, {column.key: value}):
        session.add(obj)


async def update_unique(
    session: AsyncSession, obj: Any, changes: dict[str, Any], expected_version: int | None,
    column: InstrumentedAttribute[Any],
) -> None:
    """Apply an update (optimistic version check, stamp) to a resource with one unique `column`."""
    check_version(obj, expected_version)
    field = column.key
    if field in changes and changes[field] != getattr(obj, field):
        await ensure_unique(session, column, changes[field], field, exclude_id=obj.id)
    if apply_changes(obj, changes):
        touch(obj)
        async with unique_guard(session, {field: changes.get(field)}):
            pass  # flush here, so a racing writer's duplicate is reported by field
