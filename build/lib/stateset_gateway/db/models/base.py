"""Columns every resource shares: a UUID id, UTC timestamps and an optimistic-concurrency version."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from stateset_gateway.db.types import UTCDateTime, utcnow

# Named constraints, so migrations and error translation can refer to them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
class Versioned(SQLModel):
    """Mixin: `updated_at` and `version` change on every write (CONTRACT section 4)."""

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, nullable=False)
