"""The caller's credentials -> Principal, the one authentication path both transports use.

`X-API-Key: sk_...` (or `Authorization: Bearer sk_...`) and `Authorization: Bearer <access JWT>`,
as the pipeline read them into the request's `Caller`. No credentials means anonymous (None);
credentials that are present but bad are always an error, never silently anonymous. No transport is imported: the HTTP pipeline asks
(`http.authentication`) and keeps the answer for the rest of the request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, tokens
from stateset_gateway.auth.caller import Caller
from stateset_gateway.auth.principal import Principal
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import ApiKey, User
from stateset_gateway.db.types import utcnow


async def authenticate_access_token(db: Database, claims: dict[str, Any]) -> Principal:
    """An access JWT's verified claims -> its subject, once confirmed it still may act: user active
    and session not logged out, or API key still live. Permissions come from the database, so a role
    change or a revoked key takes effect at once, not at token expiry."""
    if claims.get("kind") == "api_key":
        async with db.reader() as session:
            record = await session.get(ApiKey, claims["sub"])
        if record is None or record.revoked_at is not None or (
            record.expires_at is not None and record.expires_at <= utcnow()
        ):
            raise errors.InvalidToken("Token has been revoked")
        async with db.reader() as session:
            owner = await session.get(User, record.user_id) if record.user_id else None
        return api_keys.principal_for_key(record, owner)
    session_id = claims.get("sid")
    async with db.reader() as session:
        user = (await session.execute(select(User).where(User.id == claims["sub"]))).scalar_one_or_none()
    if user is None or not user.is_active:
        raise errors.InvalidToken("Token is invalid: the user no longer exists or is disabled")
    if session_id is not None and await tokens.session_is_revoked(db, session_id):
        raise errors.InvalidToken("Token has been revoked")
    return principal_for_user(user, session_id=session_id)


def principal_for_user(user: User, *, session_id: Any = None) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        permissions=tokens.role_permissions(user.role),
        email=user.email,
        role=user.role,
        user_id=user.id,
        session_id=session_id,
    )


async def authenticate(db: Database, caller: Caller) -> Principal | None:
    """The caller named by its credentials, None when it sent none. Every credential presented is
    checked, so a bad one is a 401 even beside a good one; when a key and a token are both good,
    the key names the caller, because it is the more specific credential for machine clients."""
    if caller.refusal is not None:
        raise caller.refusal
    principal = None
    if caller.api_key is not None:
        principal = await api_keys.authenticate_api_key(db, caller.api_key)
    if caller.authorization is not None:
        by_token = await authenticate_access_token(db, caller.access_claims())
        principal = principal or by_token
    if principal is None:
        return None
    caller.authenticated_as(principal)
    return principal


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise errors.InvalidToken(
            "Authentication required: send 'Authorization: Bearer <access token>' or 'X-API-Key: sk_...'"
        )
    return principal
