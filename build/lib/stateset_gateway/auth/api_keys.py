"""API keys: `sk_` + 43 URL-safe random characters, shown once, stored only as a SHA-256 hash.

A fast hash (not Argon2) is right here: the key has 256 bits of entropy, so there is nothing to
brute-force, and every request authenticated by a key pays for the lookup. The `prefix` column keeps
the first characters so people can tell their keys apart in lists without the secret being stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from stateset_gateway import errors
from stateset_gateway.auth.permissions import ADMIN, intersect, is_known
from stateset_gateway.auth.principal import Principal
from stateset_gateway.auth.tokens import role_permissions
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import ApiKey, User
from stateset_gateway.db.types import utcnow

KEY_PREFIX = "sk_"
PREFIX_LENGTH = 11  # "sk_" + 8 characters: enough to tell keys apart, far too few to guess the rest
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most this often per key
DEVELOPMENT_KEY_NAME = "development"


@dataclass(frozen=True)
class IssuedApiKey:
    """A key as created: the only moment its plaintext exists outside the caller's hands."""

    record: ApiKey
    key: str


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes -> 43 characters


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX) and len(key) >= len(KEY_PREFIX) + 32


def validate_permissions(permissions: Iterable[str]) -> list[str]:
    """Normalise and check against the catalogue; unknown names are a VALIDATION_ERROR naming them."""
    cleaned: list[str] = []
    for permission in permissions:
        permission = permission.strip()
        if permission and permission not in cleaned:
            cleaned.append(permission)
    unknown = [p for p in cleaned if not is_known(p)]
    if unknown:
        raise errors.ValidationFailed(
            {"permissions": [f"Unknown permission: {p}" for p in unknown]},
            "Unknown permission(s): " + ", ".join(unknown),
        )
    if not cleaned:
        raise errors.ValidationFailed.field("permissions", "At least one permission is required")
    return cleaned


def _check_grantable(creator: Principal | None, permissions: Sequence[str]) -> None:
    """A caller can hand out only what it holds itself, so a key never escalates privileges."""
    if creator is None:  # the CLI: operator access to the database already means everything
        return
    for permission in permissions:
        if not creator.has(permission):
            raise errors.InsufficientPermissions(permission)


async def create_api_key(
    db: Database,
    *,
    name: str,
    permissions: Iterable[str],
    expires_at: datetime | None = None,
    created_by: Principal | None = None,
) -> IssuedApiKey:
    """Create a key; `created_by` None means the operator (CLI, start-up) and bypasses the grant check."""
    problems: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = ["Name is required"]
    elif len(name) > 200:
        problems["name"] = ["Name must be at most 200 characters"]
    try:
        cleaned = validate_permissions(permissions)
    except errors.ValidationFailed as exc:
        problems.update(exc.details or {})
        cleaned = []
    if expires_at is not None and expires_at <= utcnow():
        problems["expires_at"] = ["Expiry must be in the future"]
    if problems:
        raise errors.ValidationFailed(problems)
    _check_grantable(created_by, cleaned)
    key = generate_key()
    record = ApiKey(
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        permissions=cleaned,
        expires_at=expires_at,
        user_id=created_by.user_id if created_by else None,
    )
    async with db.writer() as session:
        session.add(record)
    return IssuedApiKey(record=record, key=key)


def _owned_by(principal: Principal | None) -> list[object]:
    """Admins (and the operator) see every key; anyone else sees keys of their own user."""
    if principal is None or principal.has(ADMIN):
        return []
    return [ApiKey.user_id.is_(None) if principal.user_id is None else ApiKey.user_id == principal.user_id]


async def list_api_keys(
    db: Database, *, viewer: Principal | None = None, limit: int = 20, offset: int = 0,
    include_revoked: bool = True,
) -> tuple[list[ApiKey], int]:
    """A page of keys (newest first) and the total, never the hashes' preimages."""
    conditions = _owned_by(viewer)
    if not include_revoked:
        conditions.append(ApiKey.revoked_at.is_(None))
    async with db.reader() as session:
        total = (await session.execute(select(func.count()).select_from(ApiKey).where(*conditions))).scalar_one()
        rows = await session.execute(
            select(ApiKey).where(*conditions).order_by(ApiKey.created_at.desc(), ApiKey.id).limit(limit).offset(offset)
        )
        return list(rows.scalars()), int(total)


async def revoke_api_key(db: Database, key_id: uuid.UUID, *, revoked_by: Principal | None = None) -> ApiKey:
    """Revoke now; idempotent. A key the caller may not see answers NOT_FOUND, not 403, so ids do not leak."""
    async with db.writer() as session:
        record = (
            await session.execute(select(ApiKey).where(ApiKey.id == key_id, *_owned_by(revoked_by)))
        ).scalar_one_or_none()
        if record is None:
            raise errors.NotFound.resource("API key", key_id)
        if record.revoked_at is None:
            record.revoked_at = utcnow()
    return record


async def find_development_key(db: Database) -> ApiKey | None:
    """The live key `serve` made for development, if any."""
    now = utcnow()
    async with db.reader() as session:
        rows = await session.execute(
            select(ApiKey).where(ApiKey.name == DEVELOPMENT_KEY_NAME, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at.desc())
        )
        for record in rows.scalars():
            if record.expires_at is None or record.expires_at > now:
                return record
    return None


async def authenticate_api_key(db: Database, key: str) -> Principal:
    """The Principal of a presented key; INVALID_API_KEY for unknown, expired or revoked keys."""
    if not looks_like_key(key):
        raise errors.InvalidApiKey()
    digest = hash_key(key)
    async with db.reader() as session:
        row = (await session.execute(
            select(ApiKey, User).outerjoin(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == digest)
        )).first()
    now = utcnow()
    record, owner = row if row is not None else (None, None)
    if record is None or not hmac.compare_digest(record.key_hash, digest):
        raise errors.InvalidApiKey()
    if record.revoked_at is not None:
        raise errors.InvalidApiKey("API key is invalid or revoked")
    if record.expires_at is not None and record.expires_at <= now:
        raise errors.InvalidApiKey("API key has expired")
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        # Throttled so a busy key does not turn every read into a write.
        async with db.writer() as session:
            await session.execute(update(ApiKey).where(ApiKey.id == record.id).values(last_used_at=now))
    return principal_for_key(record, owner)


def principal_for_key(record: ApiKey, owner: User | None) -> Principal:
    """A user's key never grants more than its owner's current role: demoting or disabling the owner
    takes effect on the key's next request. Keys made by operators (CLI, no owner) keep their own list."""
    permissions = frozenset(record.permissions or ())
    if record.user_id is not None:
        if owner is None or not owner.is_active:
            raise errors.InvalidApiKey("API key is invalid: its owner no longer exists or is disabled")
        permissions = intersect(permissions, role_permissions(owner.role))
    return Principal(
        kind="api_key",
        id=record.id,
        permissions=permissions,
        name=record.name,
        user_id=record.user_id,
    )


async def get_api_key(db: Database, key_id: uuid.UUID) -> ApiKey | None:
    async with db.reader() as session:
        return await session.get(ApiKey, key_id)
