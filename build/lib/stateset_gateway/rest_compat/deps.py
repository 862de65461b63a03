"""FastAPI wiring for auth: every /api/v1 route declares its permission with one dependency.

    @router.get("/orders", dependencies=[Depends(requires("orders:read"))])
    async def list_orders(...): ...

    @router.post("/orders")
    async def create_order(principal: Annotated[Principal, Depends(requires("orders:create"))], ...): ...

The declared permission is kept on the dependency object (`Requires.permission`), so
`declared_permission(route)` can tell, for any route, what it requires; the permission-matrix test
walks `app.routes` with it and fails for a route that declares nothing. Public routes say so with
`Depends(public)`. The bearer and API-key schemes are sub-dependencies only so that OpenAPI and
Swagger UI show them ("Authorize"); authentication itself is `auth.authenticate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from stateset_gateway.auth.permissions import is_known
from stateset_gateway.auth.principal import Principal
from stateset_gateway.http.authentication import authorize, principal_for_request

PUBLIC = "public"
AUTHENTICATED = "authenticated"

bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT", description="Access token from /auth/login")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key, `sk_...`")


class Requires:
    """Dependency: the caller must be authenticated (401) and hold `permission` (403).

    `permission=None` means any authenticated caller (e.g. `me`). Returns the Principal.
    """

    def __init__(self, permission: str | None) -> None:
        if permission is not None and not is_known(permission):
            raise ValueError(f"Unknown permission {permission!r}; see auth/permissions.py CATALOGUE")
        self.permission = permission

    @property
    def declared(self) -> str:
        return self.permission or AUTHENTICATED

    def __repr__(self) -> str:
        return f"requires({self.permission!r})"

    async def __call__(
        self,
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
        _api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
    ) -> Principal:
        return await authorize(request, self.permission)


def requires(permission: str) -> Requires:
    """The dependency for a route that needs `permission` (`resource:action` from the catalogue)."""
    return Requires(permission)


def authenticated() -> Requires:
    """The dependency for a route any signed-in caller may use, whatever their permissions."""
    return Requires(None)


class _Public:
    """Marker dependency: this route is deliberately open (sign-in, discovery). Does nothing."""

    declared = PUBLIC

    def __repr__(self) -> str:
        return "public"

    async def __call__(self) -> None:
        return None


public = _Public()


async def optional_principal(request: Request) -> Principal | None:
    """The caller when credentials were sent (bad ones still fail), else None; for public routes."""
    return await principal_for_request(request)


CurrentPrincipal = Annotated[Principal, Depends(authenticated())]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def declared_permission(route: APIRoute | Any) -> str | None:
    """What `route` declares: a permission, AUTHENTICATED, PUBLIC, or None when it declares nothing.

    `route` is anything with a FastAPI `dependant` (an APIRoute, or a route context of an included
    router, which also carries the router-level dependencies)."""
    found: list[str] = []

    def walk(dependant: Any) -> None:
        call = getattr(dependant, "call", None)
        if isinstance(call, (Requires, _Public)):
            found.append(call.declared)
        for sub in getattr(dependant, "dependencies", ()):
            walk(sub)

    walk(route.dependant)
    permissions = [p for p in found if p not in (PUBLIC, AUTHENTICATED)]
    if permissions:
        return permissions[0]
    if AUTHENTICATED in found:
        return AUTHENTICATED
    return PUBLIC if PUBLIC in found else None


def iter_api_routes(app: FastAPI, prefix: str = "/api/v1") -> Iterator[tuple[str, str, str | None]]:
    """(path, method, declared permission) of every API route under `prefix`, including routes of
    included routers (FastAPI 0.16x includes routers lazily, so `app.routes` alone hides them)."""
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if not path or not path.startswith(prefix) or getattr(route, "dependant", None) is None:
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                yield path, method, declared_permission(route)
