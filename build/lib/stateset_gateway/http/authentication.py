"""Authentication once per request, for every layer and transport that asks (idempotency, a REST
dependency, a GraphQL field): the answer of `auth.authenticate` is kept in the request's state.

Only an object with the ASGI `scope` and `app` is needed (a Starlette request, which both transports have).
"""

from __future__ import annotations

from typing import Any, Protocol

from stateset_gateway.auth.authenticate import authenticate, require_principal
from stateset_gateway.auth.principal import Principal
from stateset_gateway.http.state import Pending, state_of


class RequestLike(Protocol):
    scope: Any
    app: Any


async def principal_for_request(request: RequestLike) -> Principal | None:
    """The request's principal (None: anonymous), authenticated by the first layer that asks."""
    state = state_of(request.scope)
    principal = state.principal
    if isinstance(principal, Pending):
        principal = state.principal = await authenticate(request.app.state.db, state.caller)
    return principal


async def authorize(request: RequestLike, permission: str | None) -> Principal:
    """Authenticate and check one permission (None: any authenticated caller). 401 before 403."""
    principal = require_principal(await principal_for_request(request))
    if permission is not None:
        principal.require(permission)
    return principal
