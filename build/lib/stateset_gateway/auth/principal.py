"""The Principal: who made this request, for both transports. Built once per request by auth."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from stateset_gateway import errors
from stateset_gateway.auth.permissions import grants


def client_key(kind: str, principal_id: object) -> str:
    """`api_key:<id>` or `user:<id>`: one name whether a key is sent as itself or as the access token
    the client-credentials grant made of it, and one for all of a user's tokens (CONTRACT section 6)."""
    return f"{kind}:{principal_id}"


@dataclass(frozen=True)
class Principal:
    """A caller after authentication. Transports only ever ask it `require(permission)`.

    `user_id` is the owning user for both kinds (a key created by a user belongs to that user; a key
    made with the CLI belongs to nobody), so "my API keys" means the same thing whichever way one
    signs in. `session_id` is the refresh-token family of a user's access token: logout revokes it.
    """

    kind: str  # "user" | "api_key"
    id: uuid.UUID
    permissions: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None
    role: str | None = None
    name: str | None = None
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None

    @property
    def client_key(self) -> str:
        """The caller's name for the budgets (rate limit, GraphQL cost) and for idempotency keys."""
        return client_key(self.kind, self.id)

    def has(self, permission: str) -> bool:
        return grants(self.permissions, permission)

    def require(self, permission: str) -> None:
        if not self.has(permission):
            raise errors.InsufficientPermissions(permission)
