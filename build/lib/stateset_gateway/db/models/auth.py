from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import UTCDateTime, new_id, utcnow


class User(Versioned, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="user", max_length=20)
    is_active: bool = Field(default=True)


class ApiKey(SQLModel, table=True):
    """Only the hash of a key is stored; `prefix` lets people tell their keys apart."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=128, unique=True)
    permissions: list[str] = Field(default_factory=list, sa_type=JSON)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RefreshToken(SQLModel, table=True):
    """One row per issued refresh token (by jti); a family is one login session across rotations."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    family_id: uuid.UUID = Field(index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
