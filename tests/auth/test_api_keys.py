"""API keys: created once with their plaintext, listed without it, revoked and expired keys refused."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import Depends

from stateset_gateway.auth.api_keys import create_api_key, hash_key, revoke_api_key
from stateset_gateway.db.engine import Database
from stateset_gateway.db.types import utcnow
from stateset_gateway.rest_compat.deps import requires


@pytest.fixture
def probe(app: object) -> str:
    """A throwaway route requiring orders:read, so these tests do not depend on other routers."""

    async def handler() -> dict[str, bool]:
        return {"ok": True}

    app.add_api_route("/api/v1/_probe", handler, dependencies=[Depends(requires("orders:read"))])  # type: ignore[attr-defined]
    return "/api/v1/_probe"


async def test_fixture_key_authenticates_and_checks_permission(
    client: httpx.AsyncClient, auth_headers: object, probe: str
) -> None:
    allowed = await auth_headers(["orders:read"])  # type: ignore[operator]
    denied = await auth_headers(["customers:read"])  # type: ignore[operator]
    wildcard = await auth_headers(["orders:*"])  # type: ignore[operator]
    assert (await client.get(probe, headers=allowed)).status_code == 200
    assert (await client.get(probe, headers=wildcard)).status_code == 200
    response = await client.get(probe, headers=denied)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_PERMISSIONS"
    assert error["required_permission"] == "orders:read"
    assert error["details"]["required_permission"] == "orders:read"


async def test_admin_headers_grant_everything(client: httpx.AsyncClient, admin_headers: dict[str, str],
                                              probe: str) -> None:
    assert (await client.get(probe, headers=admin_headers)).status_code == 200


async def test_anonymous_is_401_invalid_token(client: httpx.AsyncClient, probe: str) -> None:
    response = await client.get(probe)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize("key", ["sk_" + "x" * 43, "not-a-key", "sk_short"])
async def test_unknown_key_is_invalid_api_key(client: httpx.AsyncClient, probe: str, key: str) -> None:
    response = await client.get(probe, headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_API_KEY"
    assert key not in response.text


async def test_expired_and_revoked_keys_are_refused(client: httpx.AsyncClient, db: Database, probe: str) -> None:
    expiring = await create_api_key(db, name="soon", permissions=["orders:read"],
                                    expires_at=utcnow() + timedelta(seconds=1))
    from sqlalchemy import update

    from stateset_gateway.db.models.auth import ApiKey

    async with db.writer() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == expiring.record.id)
                              .values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await client.get(probe, headers={"X-API-Key": expiring.key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_API_KEY"

    live = await create_api_key(db, name="live", permissions=["orders:read"])
    assert (await client.get(probe, headers={"X-API-Key": live.key})).status_code == 200
    await revoke_api_key(db, live.record.id)  # a change made behind the operations' back: test_key_cache.py
    response = await client.get(probe, headers={"X-API-Key": live.key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_API_KEY"


async def test_only_the_hash_is_stored(db: Database) -> None:
    issued = await create_api_key(db, name="hashing", permissions=["orders:read"])
    assert issued.key.startswith("sk_") and len(issued.key) >= 35
    assert issued.record.key_hash == hash_key(issued.key) != issued.key
    assert issued.record.prefix == issued.key[:11]


async def test_a_users_key_never_outlives_the_owners_role(client: httpx.AsyncClient, db: Database) -> None:
    from stateset_gateway.auth import users
    from stateset_gateway.auth.authenticate import principal_for_user

    owner = await users.register(db, "keyowner@example.com", "SecurePass123!", role="manager")
    issued = await create_api_key(db, name="ops", permissions=["orders:*", "customers:read"],
                                  created_by=principal_for_user(owner))
    headers = {"X-API-Key": issued.key}
    assert (await client.get("/api/v1/orders", headers=headers)).status_code == 200
    await users.set_role(db, "keyowner@example.com", "readonly")
    assert (await client.get("/api/v1/orders", headers=headers)).status_code == 200  # orders:read is kept
    denied = await client.post("/api/v1/orders", json={}, headers=headers)
    assert denied.status_code == 403
    assert denied.json()["error"]["required_permission"] == "orders:create"
