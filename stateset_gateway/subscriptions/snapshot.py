"""A resource as its event recorded it -> the row the GraphQL types read.

A subscription's payload is the client's selection over the resource as it was when the event
committed, not as it is when the payload is made (a later read would skip states that came fast).
The event carries the resource as REST shows it; this rebuilds the table row from it, each column
converted back to the type its model declares.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, get_args

from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)


def _convert(python_type: type | None, value: Any) -> Any:
    if value is None or python_type is None or isinstance(value, python_type):
        return value
    if python_type is uuid.UUID:
        return uuid.UUID(str(value))
    if python_type is Decimal:
        return Decimal(str(value))
    if python_type is datetime:
        return datetime.fromisoformat(str(value))
    return value


def _python_type(model: type[SQLModel], name: str) -> type | None:
    """The field's declared type when it is one the event carries as text (`Decimal | None` -> Decimal)."""
    declared = model.model_fields[name].annotation
    for candidate in (declared, *get_args(declared)):
        if candidate in (uuid.UUID, Decimal, datetime):
            return candidate  # type: ignore[no-any-return]
    return None


def row_from(model: type[Row], data: dict[str, Any]) -> Row:
    """An unsaved `model` row with the columns `data` holds (keys as the REST representation names them)."""
    values = {column.key: _convert(_python_type(model, column.key), data[column.key])
              for column in model.__table__.columns if column.key in data}  # type: ignore[attr-defined]
    return model(**values)
