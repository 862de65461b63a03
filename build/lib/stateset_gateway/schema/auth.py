"""GraphQL auth: `me`, `apiKeys`, and the register / login / refreshToken / logout / API-key mutations.

Thin like every other domain: each field declares its permission and calls `stateset_gateway.auth`,
the same functions the REST routes call, so both transports answer the same errors.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime

import strawberry

from stateset_gateway import errors
from stateset_gateway.auth import api_keys, tokens, users
from stateset_gateway.auth.login_guard import guard_for
from stateset_gateway.auth.principal import Principal
from stateset_gateway.db.models.auth import ApiKey as ApiKeyRow
from stateset_gateway.db.models.auth import User as UserRow
from stateset_gateway.http.authentication import principal_for_request
from stateset_gateway.schema.common import GqlInfo, mutation, query
from stateset_gateway.schema.inputs import CreateApiKeyInput, LoginInput, RegisterInput
from stateset_gateway.schema.permissions import authenticated, public

MAX_PAGE = 100


@strawberry.type(name="User", description="A person who signs in with email and password.")
class UserType:
    id: strawberry.ID
    email: str
    role: str
    permissions: list[str]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: UserRow) -> UserType:
        return cls(id=strawberry.ID(str(user.id)), email=user.email, role=user.role, is_active=user.is_active,
                   permissions=sorted(tokens.role_permissions(user.role)), created_at=user.created_at)


@strawberry.type(description="Tokens of a session: send `Authorization: Bearer <accessToken>`.")
class AuthPayload:
    access_token: str
    refresh_token: str | None
    token_type: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    refresh_expires_in: int | None
    user: UserType | None

    @classmethod
    def of(cls, pair: tokens.TokenPair) -> AuthPayload:
        return cls(access_token=pair.access_token, refresh_token=pair.refresh_token, token_type=pair.token_type,
                   expires_in=pair.expires_in, refresh_expires_in=pair.refresh_expires_in,
                   user=UserType.of(pair.user) if pair.user else None)


@strawberry.type(description="The caller: a signed-in user or an API key.")
class Viewer:
    kind: str
    id: strawberry.ID
    email: str | None
    role: str | None
    name: str | None
    permissions: list[str]

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(kind=principal.kind, id=strawberry.ID(str(principal.id)), email=principal.email,
                   role=principal.role, name=principal.name, permissions=sorted(principal.permissions))


@strawberry.type(description="An API key as listed: never the key itself, only its first characters.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    permissions: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, record: ApiKeyRow) -> ApiKey:
        return cls(id=strawberry.ID(str(record.id)), name=record.name, prefix=record.prefix,
                   permissions=list(record.permissions), expires_at=record.expires_at,
                   revoked_at=record.revoked_at, last_used_at=record.last_used_at, created_at=record.created_at)


@strawberry.type(description="A new API key. `key` is shown in this response only: store it now.")
class CreatedApiKey:
    api_key: ApiKey
    key: str


@strawberry.type
class ApiKeyPage:
    items: list[ApiKey]
    total: int
    page: int
    limit: int
    total_pages: int


def _client_ip(info: GqlInfo) -> str | None:
    client = info.context.request.client
    return client.host if client else None


def _principal(info: GqlInfo) -> Principal:
    principal = info.context.principal
    assert principal is not None  # the field's permission extension ran first
    return principal


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ValidationFailed.field(field, "Must be a UUID") from None


@strawberry.type
class AuthQueries:
    @strawberry.field(extensions=authenticated(), description="Who is calling, with which permissions.")
    async def me(self, info: GqlInfo) -> Viewer:
        return Viewer.of(_principal(info))

    @query("api-keys:read", description="API keys (yours; every key for admin:*), newest first.")
    async def api_keys(self, info: GqlInfo, page: int = 1, limit: int = 20) -> ApiKeyPage:
        if page < 1 or not 1 <= limit <= MAX_PAGE:
            raise errors.ValidationFailed({"page": ["Must be at least 1"]} if page < 1 else
                                          {"limit": [f"Must be between 1 and {MAX_PAGE}"]})
        records, total = await api_keys.list_api_keys(info.context.db, viewer=_principal(info), limit=limit,
                                                      offset=(page - 1) * limit)
        return ApiKeyPage(items=[ApiKey.of(r) for r in records], total=total, page=page, limit=limit,
                          total_pages=math.ceil(total / limit))


@strawberry.type
class AuthMutations:
    @strawberry.mutation(extensions=public(), description="Create an account (role user) and sign in.")
    async def register(self, info: GqlInfo, input: RegisterInput) -> AuthPayload:
        ctx = info.context
        user = await users.self_register(ctx.db, ctx.settings, input.email, input.password)
        return AuthPayload.of(await tokens.start_session(ctx.db, ctx.settings, user))

    @strawberry.mutation(extensions=public(), description="Sign in with email and password.")
    async def login(self, info: GqlInfo, input: LoginInput) -> AuthPayload:
        ctx = info.context
        guard = guard_for(ctx.request.app.state, ctx.settings)
        pair = await users.login(ctx.db, ctx.settings, guard, input.email, input.password,
                                 client_ip=_client_ip(info))
        return AuthPayload.of(pair)

    @strawberry.mutation(extensions=public(), description="Trade a refresh token for a new pair; it is spent.")
    async def refresh_token(self, info: GqlInfo, refresh_token: str) -> AuthPayload:
        ctx = info.context
        return AuthPayload.of(await tokens.rotate_refresh_token(ctx.db, ctx.settings, refresh_token))

    @strawberry.mutation(extensions=public(),
                         description="End the session of the bearer token and/or of `refreshToken`.")
    async def logout(self, info: GqlInfo, refresh_token: str | None = None) -> bool:
        ctx = info.context
        principal = await principal_for_request(ctx.request)
        await tokens.logout(ctx.db, ctx.settings, principal, refresh_token, refresh_token_field="refreshToken")
        return True

    @mutation("api-keys:create", description="Create an API key holding at most your own permissions.")
    async def create_api_key(self, info: GqlInfo, input: CreateApiKeyInput) -> CreatedApiKey:
        issued = await api_keys.create_api_key(info.context.db, name=input.name, permissions=input.permissions,
                                               expires_at=input.expires_at, created_by=_principal(info))
        return CreatedApiKey(api_key=ApiKey.of(issued.record), key=issued.key)

    @mutation("api-keys:delete", description="Revoke an API key now.")
    async def revoke_api_key(self, info: GqlInfo, id: strawberry.ID) -> ApiKey:
        record = await api_keys.revoke_api_key(info.context.db, _uuid(id, "id"), revoked_by=_principal(info))
        return ApiKey.of(record)
