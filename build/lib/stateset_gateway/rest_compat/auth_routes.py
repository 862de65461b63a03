"""REST auth: register, login, refresh, logout, API keys, and the OAuth 2 token endpoint + metadata.

Routes only wire the request to `stateset_gateway.auth` and wrap the result; every rule lives there.
Request bodies are auth/inputs.py's models, which GraphQL's auth inputs are made from too.
Token responses carry `Cache-Control: no-store` (RFC 6749 5.1) so no proxy keeps a credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, oauth, tokens, users
from stateset_gateway.auth.inputs import ApiKeyCreateIn, LoginIn, LogoutIn, RefreshIn, RegisterIn
from stateset_gateway.auth.login_guard import guard_for
from stateset_gateway.auth.permissions import ADMIN, ALL_PERMISSIONS
from stateset_gateway.auth.principal import Principal
from stateset_gateway.db.models.auth import ApiKey, User
from stateset_gateway.rest_compat.common import API_PREFIX, MAX_PAGE, errors_doc, get_db, get_settings
from stateset_gateway.rest_compat.deps import OptionalPrincipal, authenticated, public, requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page, dumps, no_content, ok, page

router = APIRouter(prefix=API_PREFIX, tags=["auth"], responses=errors_doc(404, 409))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- answers --------------------------------------------------------------------------------------

class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    role: str
    permissions: list[str]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, role=user.role, is_active=user.is_active,
                   permissions=sorted(tokens.role_permissions(user.role)), created_at=user.created_at)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str | None
    token_type: str
    expires_in: int
    refresh_expires_in: int | None
    user: UserOut | None

    @classmethod
    def of(cls, pair: tokens.TokenPair) -> TokenOut:
        return cls(access_token=pair.access_token, refresh_token=pair.refresh_token, token_type=pair.token_type,
                   expires_in=pair.expires_in, refresh_expires_in=pair.refresh_expires_in,
                   user=UserOut.of(pair.user) if pair.user else None)


class PrincipalOut(BaseModel):
    kind: str
    id: uuid.UUID
    email: str | None
    role: str | None
    name: str | None
    permissions: list[str]

    @classmethod
    def of(cls, principal: Principal) -> PrincipalOut:
        return cls(kind=principal.kind, id=principal.id, email=principal.email, role=principal.role,
                   name=principal.name, permissions=sorted(principal.permissions))


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    permissions: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, record: ApiKey) -> ApiKeyOut:
        return cls(id=record.id, name=record.name, prefix=record.prefix, permissions=list(record.permissions),
                   expires_at=record.expires_at, revoked_at=record.revoked_at,
                   last_used_at=record.last_used_at, created_at=record.created_at)


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself. Shown only in this response: store it now.")


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- users and sessions ----------------------------------------------------------------------------

@router.post("/auth/register", status_code=201, dependencies=[Depends(public)],
             response_model=Envelope[TokenOut], summary="Create an account (role from [auth] registration_role) and sign in")
async def register(body: RegisterIn, request: Request) -> Response:
    user = await users.self_register(get_db(request), get_settings(request), body.email, body.password)
    pair = await tokens.start_session(get_db(request), get_settings(request), user)
    return ok(TokenOut.of(pair), request, status=201, headers=NO_STORE)


@router.post("/auth/login", dependencies=[Depends(public)], response_model=Envelope[TokenOut],
             summary="Sign in with email and password")
async def login(body: LoginIn, request: Request) -> Response:
    settings = get_settings(request)
    pair = await users.login(get_db(request), settings, guard_for(request.app.state, settings), body.email,
                             body.password, client_ip=_client_ip(request))
    return ok(TokenOut.of(pair), request, headers=NO_STORE)


@router.post("/auth/refresh", dependencies=[Depends(public)], response_model=Envelope[TokenOut],
             summary="Trade a refresh token for a new pair (the old one is spent)")
async def refresh(body: RefreshIn, request: Request) -> Response:
    pair = await tokens.rotate_refresh_token(get_db(request), get_settings(request), body.refresh_token)
    return ok(TokenOut.of(pair), request, headers=NO_STORE)


@router.post("/auth/logout", status_code=204, dependencies=[Depends(public)],
             summary="End the session of the access token and/or of the given refresh token")
async def logout(request: Request, principal: OptionalPrincipal, body: LogoutIn | None = None) -> Response:
    """Public in the matrix sense because a client whose access token expired must still be able to
    log out with its refresh token; with neither credential it is 401 like any protected route."""
    await tokens.logout(get_db(request), get_settings(request), principal, body.refresh_token if body else None)
    return no_content()


@router.get("/auth/me", response_model=Envelope[PrincipalOut], summary="Who am I, with which permissions")
async def me(request: Request, principal: Annotated[Principal, Depends(authenticated())]) -> Response:
    return ok(PrincipalOut.of(principal), request)


# --- API keys --------------------------------------------------------------------------------------

@router.get("/auth/api-keys", response_model=Envelope[Page[ApiKeyOut]],
            summary="API keys (yours; every key for admin:*), newest first, without their secrets")
async def list_keys(
    request: Request,
    principal: Annotated[Principal, Depends(requires("api-keys:read"))],
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    records, total = await api_keys.list_api_keys(get_db(request), viewer=principal, limit=limit,
                                                  offset=(page_number - 1) * limit)
    return ok(page([ApiKeyOut.of(r) for r in records], total=total, page=page_number, limit=limit), request)


@router.post("/auth/api-keys", status_code=201, response_model=Envelope[ApiKeyCreatedOut],
             summary="Create an API key; the key is in this response only")
async def create_key(
    body: ApiKeyCreateIn, request: Request, principal: Annotated[Principal, Depends(requires("api-keys:create"))]
) -> Response:
    issued = await api_keys.create_api_key(get_db(request), name=body.name, permissions=body.permissions,
                                           expires_at=body.expires_at, created_by=principal)
    data = ApiKeyCreatedOut(**ApiKeyOut.of(issued.record).model_dump(), key=issued.key)
    return ok(data, request, status=201, headers=NO_STORE)


@router.delete("/auth/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_key(
    key_id: uuid.UUID, request: Request, principal: Annotated[Principal, Depends(requires("api-keys:delete"))]
) -> Response:
    await api_keys.revoke_api_key(get_db(request), key_id, revoked_by=principal)
    return no_content()


# --- OAuth 2 ---------------------------------------------------------------------------------------

async def _token_form(request: Request) -> dict[str, str]:
    """RFC 6749 sends form-encoded bodies; JSON is accepted too for convenience."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            data = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise errors.ValidationFailed({"body": ["Malformed JSON"]}) from None
        if not isinstance(data, dict):
            raise errors.ValidationFailed({"body": ["Expected a JSON object"]})
        return {str(k): str(v) for k, v in data.items() if v is not None}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=False))


def _oauth_body(granted: oauth.Grant) -> dict[str, Any]:
    pair = granted.tokens
    body: dict[str, Any] = {"access_token": pair.access_token, "token_type": pair.token_type,
                            "expires_in": pair.expires_in, "scope": " ".join(sorted(granted.scope))}
    if pair.refresh_token:
        body["refresh_token"] = pair.refresh_token
    return body


@router.post("/auth/token", name="oauth_token", dependencies=[Depends(public)],
             summary="OAuth 2 token endpoint: password, refresh_token, client_credentials grants",
             openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                 "type": "object", "required": ["grant_type"], "properties": {
                     "grant_type": {"type": "string", "enum": oauth.GRANT_TYPES},
                     "username": {"type": "string"}, "password": {"type": "string"},
                     "refresh_token": {"type": "string"},
                     "client_id": {"type": "string", "description": "API key id (client_credentials)"},
                     "client_secret": {"type": "string", "description": "The API key, sk_..."},
                 }}}}}})
async def oauth_token(request: Request) -> Response:
    """Answers the RFC 6749 token response itself (not the envelope), so stock OAuth clients work;
    errors keep the gateway's documented error shape."""
    form = await _token_form(request)
    settings = get_settings(request)
    token_request = oauth.TokenRequest(
        grant_type=form.get("grant_type"), username=form.get("username"), password=form.get("password"),
        refresh_token=form.get("refresh_token"), client_id=form.get("client_id"),
        client_secret=form.get("client_secret"), authorization=request.headers.get("authorization"),
    )
    granted = await oauth.grant(get_db(request), settings, guard_for(request.app.state, settings), token_request,
                                client_ip=_client_ip(request))
    return Response(dumps(_oauth_body(granted)), media_type="application/json", headers=NO_STORE)


@router.get("/.well-known/oauth-authorization-server", dependencies=[Depends(public)],
            summary="OAuth 2 authorization server metadata (RFC 8414)")
async def oauth_metadata(request: Request) -> Response:
    """Only what exists: a token endpoint and its grants. There is no authorization endpoint (no
    browser redirect flows), so `response_types_supported` is empty."""
    base = str(request.base_url).rstrip("/")
    metadata = {
        "issuer": f"{base}/api/v1",
        "token_endpoint": str(request.url_for("oauth_token")),
        "grant_types_supported": oauth.GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": [],
        "scopes_supported": sorted(ALL_PERMISSIONS | {ADMIN}),
        "service_documentation": f"{base}/docs",
    }
    return Response(dumps(metadata), media_type="application/json")


