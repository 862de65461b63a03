"""GraphQL permission declarations: the same check REST's `requires()` makes, as Strawberry extensions.

    @strawberry.field(extensions=requires("orders:read"))
    async def orders(self, info: Info) -> ...: ...

`HasPermission` authenticates lazily from the request headers (X-API-Key or Bearer, once per request,
shared with REST through the request's state), stores the Principal on `info.context.principal` and raises
the typed errors (INVALID_TOKEN / TOKEN_EXPIRED / INVALID_API_KEY 401, INSUFFICIENT_PERMISSIONS 403)
that the schema's error formatter renders with `code`, `status` and `details` in `extensions`.
Sign-in fields declare `public()`, "any signed-in caller" fields `authenticated()`, so the
permission-matrix test can tell a deliberate choice from a forgotten declaration.
"""

from __future__ import annotations

import inspect
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from stateset_gateway.auth.permissions import is_known
from stateset_gateway.auth.principal import Principal
from stateset_gateway.http.authentication import authorize

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def _request(info: Info[Any, Any]) -> Any:
    context = info.context
    return context["request"] if isinstance(context, dict) else context.request


def _remember(info: Info[Any, Any], principal: Principal) -> None:
    context = info.context
    if isinstance(context, dict):
        context["principal"] = principal
    else:
        context.principal = principal


class HasPermission(BasePermission):
    """The caller must be authenticated (401) and hold `permission` (403); None: any signed-in caller."""

    def __init__(self, permission: str | None) -> None:
        if permission is not None and not is_known(permission):
            raise ValueError(f"Unknown permission {permission!r}; see auth/permissions.py CATALOGUE")
        self.permission = permission

    @property
    def declared(self) -> str:
        return self.permission or AUTHENTICATED

    async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        _remember(info, await authorize(_request(info), self.permission))
        return True


class IsPublic(BasePermission):
    """Declares a field open to anonymous callers (sign-in). Checks nothing."""

    permission = PUBLIC
    declared = PUBLIC

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return True


def requires(permission: str) -> list[FieldExtension]:
    """`extensions=` for a field or mutation that needs `permission`."""
    return [PermissionExtension(permissions=[HasPermission(permission)], use_directives=False)]


def authenticated() -> list[FieldExtension]:
    """`extensions=` for a field any authenticated caller may use (e.g. `me`)."""
    return [PermissionExtension(permissions=[HasPermission(None)], use_directives=False)]


def public() -> list[FieldExtension]:
    """`extensions=` for a deliberately public field (register, login, refreshToken, logout)."""
    return [PermissionExtension(permissions=[IsPublic()], use_directives=False)]


def declared_permission(field: Any) -> str | None:
    """What a Strawberry field declares: a permission, AUTHENTICATED, PUBLIC, or None (nothing).

    Understands any BasePermission carrying a `permission` attribute, so classes defined elsewhere
    with the same convention count too."""
    for extension in getattr(field, "extensions", None) or ():
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                declared = getattr(permission, "declared", None) or getattr(permission, "permission", None)
                if declared:
                    return str(declared)
    return None


class RelationPermission(FieldExtension):
    """A nested relation (`Order.customer`, `Product.inventoryLevels`) needs its resource's read permission
    too, exactly as the REST route for that resource would: `orders:read` alone must not reveal customers.

    Cheaper than PermissionExtension on purpose: it runs once per row of a page, and the caller was
    already authenticated by the root field, so the check is a set lookup on the context's Principal.
    """

    def __init__(self, permission: str) -> None:
        if not is_known(permission):
            raise ValueError(f"Unknown permission {permission!r}; see auth/permissions.py CATALOGUE")
        self.permission = permission
        super().__init__()

    async def _principal(self, info: Info[Any, Any]) -> Principal:
        context = info.context
        principal = context.get("principal") if isinstance(context, dict) else context.principal
        if principal is None:
            principal = await authorize(_request(info), None)
            _remember(info, principal)
        return principal

    async def resolve_async(self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        (await self._principal(info)).require(self.permission)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def relation_requires(permission: str) -> list[FieldExtension]:
    """`extensions=` for a nested relation field that exposes another resource."""
    return [RelationPermission(permission)]
