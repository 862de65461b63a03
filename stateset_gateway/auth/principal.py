"""The Principal: who made this request, for both transports. Built once per request by auth."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from stateset_gateway import errors
from stateset_gateway.auth.permissions import grants


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "api_key"
    id: uuid.UUID
    permissions: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None
    role: str | None = None
    name: str | None = None

    @property
    def rate_limit_key(self) -> str:
        """API key, else user: the identity rate limits count against (CONTRACT section 6)."""
        return f"{self.kind}:{self.id}"

    def has(self, permission: str) -> bool:
        return grants(self.permissions, permission)

    def require(self, permission: str) -> None:
        if not self.has(permission):
            raise errors.InsufficientPermissions(permission)
