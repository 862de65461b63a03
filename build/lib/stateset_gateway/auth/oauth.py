"""The OAuth 2 token endpoint's grants (RFC 6749): password, refresh_token and client_credentials.

A grant is answered with the same sessions and API keys as the gateway's own sign-in, so a token
from `/auth/token` is the token `/auth/login` would give. The transport parses the request into a
`TokenRequest` and renders the `Grant`; which grant does what is decided here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, tokens, users
from stateset_gateway.auth.login_guard import LoginGuard
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database

GRANT_TYPES = ["password", "refresh_token", "client_credentials"]


@dataclass(frozen=True)
class TokenRequest:
    """The token endpoint's parameters. `authorization` is the raw Authorization header, read only
    by the client_credentials grant (HTTP Basic client authentication)."""

    grant_type: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    authorization: str | None = None


@dataclass(frozen=True)
class Grant:
    tokens: tokens.TokenPair
    scope: list[str]


def basic_client(authorization: str | None) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from `Authorization: Basic ...`, or (None, None) without one."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None, None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.InvalidApiKey("Malformed HTTP Basic client credentials") from None
    return unquote(client_id) or None, unquote(secret) or None


def _user_scope(pair: tokens.TokenPair) -> list[str]:
    return sorted(tokens.role_permissions(pair.user.role)) if pair.user else []


async def grant(
    db: Database, settings: Settings, guard: LoginGuard, request: TokenRequest, *, client_ip: str | None = None
) -> Grant:
    """Answer one token request: a user's session (password, refresh_token) or an API key's access
    token (client_credentials, whose client_id, when sent, must name the key: its id or its name)."""
    if request.grant_type == "password":
        pair = await users.login(db, settings, guard, request.username, request.password, client_ip=client_ip)
        return Grant(pair, _user_scope(pair))
    if request.grant_type == "refresh_token":
        if not request.refresh_token:
            raise errors.ValidationFailed.field("refresh_token", "Refresh token is required")
        pair = await tokens.rotate_refresh_token(db, settings, request.refresh_token)
        return Grant(pair, _user_scope(pair))
    if request.grant_type == "client_credentials":
        basic_id, basic_secret = basic_client(request.authorization)
        client_id = request.client_id or basic_id
        secret = request.client_secret or basic_secret
        if not secret:
            raise errors.ValidationFailed.field("client_secret", "Client secret (the API key) is required")
        key_principal = await api_keys.authenticate_api_key(db, secret)
        if client_id and client_id not in (str(key_principal.id), key_principal.name):
            raise errors.InvalidApiKey("client_id does not match the API key")
        access = tokens.issue_access_token(settings, subject=key_principal.id, kind="api_key",
                                           permissions=sorted(key_principal.permissions))
        pair = tokens.TokenPair(access_token=access, expires_in=settings.auth.access_token_ttl_seconds)
        return Grant(pair, sorted(key_principal.permissions))
    message = f"grant_type must be one of: {', '.join(GRANT_TYPES)}"
    raise errors.ValidationFailed({"grant_type": ["Grant type is required" if not request.grant_type else message]})
