"""JWTs (PyJWT, HS256) and login sessions: short access tokens plus single-use rotating refresh tokens.

Every refresh token is a row in `refresh_tokens` (its id is the JWT's `jti`); the rows of one login
share a `family_id`, which access tokens carry as `sid`. Refreshing marks the presented row used and
issues the next one in the family. Presenting a used token again means it was stolen (or replayed):
the whole family is revoked, so both the thief and the victim must sign in again. Logout revokes the
family too, and access tokens of a revoked family stop working at once (one indexed lookup).

Decoding pins the algorithm list to HS256, which refuses `alg: none` and RS/HS confusion, and
requires every claim, the issuer and the audience.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
from sqlalchemy import select, update

from stateset_gateway import errors
from stateset_gateway.auth.permissions import ROLES
from stateset_gateway.auth.principal import Principal
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import RefreshToken, User
from stateset_gateway.db.types import utcnow

ALGORITHM = "HS256"
LEEWAY_SECONDS = 5  # tolerated clock skew between instances
REQUIRED_CLAIMS = ["sub", "jti", "iat", "nbf", "exp", "iss", "aud", "type"]
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenPair:
    """What a successful login or refresh hands back (OAuth 2 token response field names)."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    token_type: str = "Bearer"
    user: User | None = None


def encode(settings: Settings, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def _base_claims(settings: Settings, subject: uuid.UUID, token_type: TokenType, now: datetime,
                 ttl: int, jti: uuid.UUID | None = None) -> dict[str, Any]:
    issued = int(now.timestamp())
    return {
        "sub": str(subject),
        "jti": str(jti or uuid.uuid4()),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "iss": settings.auth.jwt_issuer,
        "aud": settings.auth.jwt_audience,
        "type": token_type,
    }


def issue_access_token(
    settings: Settings,
    *,
    subject: uuid.UUID,
    permissions: Sequence[str],
    roles: Sequence[str] = (),
    kind: Literal["user", "api_key"] = "user",
    session_id: uuid.UUID | None = None,
    now: datetime | None = None,
    ttl: int | None = None,
) -> str:
    """An access JWT. `permissions` are informative for clients; the server re-derives them per request."""
    ttl = settings.auth.access_token_ttl_seconds if ttl is None else ttl
    claims = _base_claims(settings, subject, "access", now or utcnow(), ttl)
    claims.update(roles=list(roles), permissions=sorted(permissions), kind=kind)
    if session_id is not None:
        claims["sid"] = str(session_id)
    return encode(settings, claims)


def issue_refresh_token(settings: Settings, *, user_id: uuid.UUID, jti: uuid.UUID, family_id: uuid.UUID,
                        now: datetime, ttl: int | None = None) -> str:
    ttl = settings.auth.refresh_token_ttl_seconds if ttl is None else ttl
    claims = _base_claims(settings, user_id, "refresh", now, ttl, jti=jti)
    claims["sid"] = str(family_id)
    return encode(settings, claims)


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> dict[str, Any]:
    """Verified claims, or TOKEN_EXPIRED / INVALID_TOKEN. The signature is checked before expiry,
    so a tampered expired token is INVALID_TOKEN, never TOKEN_EXPIRED."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.auth.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.auth.jwt_audience,
            issuer=settings.auth.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise errors.TokenExpired(f"{expected_type.capitalize()} token has expired") from None
    except jwt.InvalidTokenError:
        raise errors.InvalidToken() from None
    if claims.get("type") != expected_type:
        raise errors.InvalidToken(f"Token is invalid: expected an {expected_type} token"
                                  if expected_type == "access" else
                                  f"Token is invalid: expected a {expected_type} token")
    try:
        claims["sub"] = uuid.UUID(str(claims["sub"]))
        if "sid" in claims:
            claims["sid"] = uuid.UUID(str(claims["sid"]))
        claims["jti"] = uuid.UUID(str(claims["jti"])) if expected_type == "refresh" else claims["jti"]
    except ValueError:
        raise errors.InvalidToken() from None
    return claims


def role_permissions(role: str) -> frozenset[str]:
    return ROLES.get(role, frozenset())


async def _new_refresh(settings: Settings, session: Any, user_id: uuid.UUID, family_id: uuid.UUID,
                       now: datetime) -> str:
    row = RefreshToken(user_id=user_id, family_id=family_id, created_at=now,
                       expires_at=now + timedelta(seconds=settings.auth.refresh_token_ttl_seconds))
    session.add(row)
    return issue_refresh_token(settings, user_id=user_id, jti=row.id, family_id=family_id, now=now)


def _pair(settings: Settings, user: User, family_id: uuid.UUID, refresh: str, now: datetime) -> TokenPair:
    access = issue_access_token(settings, subject=user.id, permissions=role_permissions(user.role),
                                roles=[user.role], session_id=family_id, now=now)
    return TokenPair(access_token=access, expires_in=settings.auth.access_token_ttl_seconds,
                     refresh_token=refresh, refresh_expires_in=settings.auth.refresh_token_ttl_seconds, user=user)


async def start_session(db: Database, settings: Settings, user: User) -> TokenPair:
    """A new login session (a new refresh-token family) for an authenticated user."""
    now = utcnow()
    family_id = uuid.uuid4()
    async with db.writer() as session:
        refresh = await _new_refresh(settings, session, user.id, family_id, now)
    return _pair(settings, user, family_id, refresh, now)


async def rotate_refresh_token(db: Database, settings: Settings, refresh_token: str) -> TokenPair:
    """Spend `refresh_token` and return the next pair of its session. A spent token seen again
    revokes the session (committed before the error is raised, so the revocation sticks)."""
    claims = decode_token(settings, refresh_token, "refresh")
    jti, family_id, user_id = claims["jti"], claims["sid"], claims["sub"]
    now = utcnow()
    reused = False
    async with db.writer() as session:
        # One conditional UPDATE: of two concurrent refreshes with one token, exactly one wins.
        spent = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == jti, RefreshToken.user_id == user_id, RefreshToken.used_at.is_(None),
                   RefreshToken.revoked_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount == 1:
            user = await session.get(User, user_id)
            if user is None or not user.is_active:
                await _revoke_family(session, family_id, now)
            else:
                refresh = await _new_refresh(settings, session, user.id, family_id, now)
                return _pair(settings, user, family_id, refresh, now)
        else:
            row = await session.get(RefreshToken, jti)
            if row is not None and row.revoked_at is None and row.used_at is not None:
                reused = True
                await _revoke_family(session, row.family_id, now)
    if reused:
        raise errors.InvalidToken("Refresh token was already used; the session has been revoked, sign in again")
    raise errors.InvalidToken("Refresh token has been revoked")


async def _revoke_family(session: Any, family_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)


async def revoke_session(db: Database, family_id: uuid.UUID, *, user_id: uuid.UUID | None = None) -> bool:
    """Log a session out: every refresh token of the family, and access tokens that carry it as `sid`."""
    async with db.writer() as session:
        if user_id is not None:
            owner = await session.execute(
                select(RefreshToken.user_id).where(RefreshToken.family_id == family_id).limit(1)
            )
            if owner.scalar_one_or_none() not in (None, user_id):
                return False
        return await _revoke_family(session, family_id, utcnow()) > 0


async def revoke_session_of_refresh_token(db: Database, settings: Settings, refresh_token: str) -> bool:
    """Logout by refresh token. An expired token still names its session, which is revoked all the same."""
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except errors.TokenExpired:
        return False  # the session can no longer be refreshed anyway
    return await revoke_session(db, claims["sid"], user_id=claims["sub"])


async def logout(
    db: Database, settings: Settings, principal: Principal | None, refresh_token: str | None,
    *, refresh_token_field: str = "refresh_token",
) -> None:
    """End the session of the caller's access token and/or of `refresh_token`. Either credential is
    enough, so a client whose access token expired can still log out; with neither it is
    INVALID_TOKEN (the message names the refresh token as the transport calls it)."""
    if principal is None and not refresh_token:
        raise errors.InvalidToken(
            f"Send the access token (Authorization: Bearer) or a {refresh_token_field} to log out")
    if refresh_token:
        await revoke_session_of_refresh_token(db, settings, refresh_token)
    if principal is not None and principal.session_id is not None:
        await revoke_session(db, principal.session_id, user_id=principal.user_id)


async def session_is_revoked(db: Database, family_id: uuid.UUID) -> bool:
    async with db.reader() as session:
        hit = await session.execute(
            select(RefreshToken.id).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
            .limit(1)
        )
        return hit.first() is not None
