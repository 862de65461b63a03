"""The permission catalogue (CONTRACT section 5) and the role -> permission sets.

Permissions are `resource:action`; `resource:*` grants every action on the resource and `admin:*`
grants everything.
"""

from __future__ import annotations

from collections.abc import Iterable

CATALOGUE: dict[str, tuple[str, ...]] = {
    "orders": ("read", "create", "update", "cancel", "delete"),
    "customers": ("read", "create", "update", "delete"),
    "products": ("read", "create", "update", "delete"),
    "inventory": ("read", "adjust"),
    "returns": ("read", "create", "approve"),
    "shipments": ("read", "create", "update"),
    "payments": ("create", "refund"),
    "webhooks": ("manage",),
    "api-keys": ("read", "create", "delete"),
}
ALL_PERMISSIONS: frozenset[str] = frozenset(f"{r}:{a}" for r, actions in CATALOGUE.items() for a in actions)
ADMIN = "admin:*"

READ_ONLY = frozenset(p for p in ALL_PERMISSIONS if p.endswith(":read") and not p.startswith("api-keys"))
ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({ADMIN}),
    "manager": frozenset(ALL_PERMISSIONS - {"api-keys:delete", "webhooks:manage"}),
    "user": READ_ONLY
    | {"orders:create", "orders:update", "orders:cancel", "customers:create", "customers:update", "returns:create",
       "payments:create"},
    "readonly": READ_ONLY,
}


def is_known(permission: str) -> bool:
    resource, _, action = permission.partition(":")
    return permission == ADMIN or permission in ALL_PERMISSIONS or (action == "*" and resource in CATALOGUE)


def grants(held: Iterable[str], required: str) -> bool:
    """Whether `held` covers `required`; a wildcard (`orders:*`) is covered by holding every action of it."""
    held = set(held)
    resource, _, action = required.partition(":")
    if ADMIN in held or required in held or f"{resource}:*" in held:
        return True
    if action == "*" and resource in CATALOGUE:
        return all(f"{resource}:{a}" in held for a in CATALOGUE[resource])
    return False


def intersect(first: Iterable[str], second: Iterable[str]) -> frozenset[str]:
    """What both sets grant, wildcards expanded: `orders:*` and `orders:read` share `orders:read`."""
    first, second = frozenset(first), frozenset(second)
    if ADMIN in first and ADMIN in second:
        return frozenset({ADMIN})
    return frozenset(p for p in ALL_PERMISSIONS if grants(first, p) and grants(second, p))
