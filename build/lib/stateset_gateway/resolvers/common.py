"""Helpers every operation shares: input validation, lookups, version checks, write stamps."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from stateset_gateway import errors
from stateset_gateway.db.types import utcnow

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=SQLModel)


def field_errors(exc: PydanticValidationError) -> dict[str, list[str]]:
    """Pydantic's errors -> {"field": ["message"]}, the shape VALIDATION_ERROR documents."""
    details: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "input"
        if err["type"] == "missing":
            message = f"{str(err['loc'][-1]).replace('_', ' ').capitalize()} is required"
        else:
            message = err["msg"].removeprefix("Value error, ")
        details.setdefault(loc, []).append(message)
    return details


def validate(model: type[M], data: Any) -> M:
    """Check input at the boundary of every operation, whichever transport it came through."""
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise errors.ValidationFailed(field_errors(exc)) from None


def parse_id(value: Any, field: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed.field(field, "Must be a UUID") from None


async def get_or_404(session: AsyncSession, model: type[T], key: Any, kind: str, *, lock: bool = False) -> T:
    """Fetch by primary key; `lock` takes a row lock (PostgreSQL) for read-modify-write operations."""
    ident = parse_id(key)
    obj = await session.get(model, ident, with_for_update=lock or None)
    if obj is None:
        raise errors.NotFound.resource(kind, ident)
    return obj


def check_version(obj: Any, expected: int | None) -> None:
    if expected is not None and obj.version != expected:
        raise errors.VersionConflict(expected, obj.version)


def touch(obj: Any) -> None:
    """Every write that changes a resource bumps `updated_at` and `version` (CONTRACT section 4)."""
    obj.updated_at = utcnow()
    obj.version = (obj.version or 0) + 1


def apply_changes(obj: Any, changes: dict[str, Any]) -> bool:
    """Set the given fields; True when anything actually changed."""
    changed = False
    for key, value in changes.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed
