from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from stateset_gateway.db.types import UTCDateTime


class IdempotencyRecord(SQLModel, table=True):
    """One `Idempotency-Key` of one client: the request it was first used with (as a digest) and,
    once answered, the response to replay. `status_code` stays empty while the first request runs."""

    __tablename__ = "idempotency_keys"

    client: str = Field(primary_key=True, max_length=80)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = Field(default=None)
    content_type: str | None = Field(default=None, max_length=200)
    body: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
