"""REST auth routes: register validation and duplicates, login, API keys over HTTP, OAuth 2 endpoints."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from stateset_gateway.auth.users import set_role
from stateset_gateway.db.engine import Database

PASSWORD = "correct horse"


async def register(client: httpx.AsyncClient, email: str = "ann@example.com",
                   password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/register", json={"email": email, "password": password})


async def admin_session(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    await register(client, "root@example.com")
    await set_role(db, "root@example.com", "admin")
    login = await client.post("/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


async def test_register_answers_201_envelope_with_user_and_tokens(client: httpx.AsyncClient) -> None:
    response = await register(client, "Ann@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    assert body["meta"]["timestamp"].endswith("Z")
    data = body["data"]
    assert data["user"]["email"] == "ann@example.com"
    assert data["user"]["role"] == "user"
    assert "orders:create" in data["user"]["permissions"]
    assert data["token_type"] == "Bearer" and data["expires_in"] == 900
    assert "password" not in response.text and "password_hash" not in response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, {"email": ["Email is required"], "password": ["Password is required"]}),
        ({"email": "not-an-email", "password": "short"}, {"password": ["Password must be at least 8 characters"]}),
        ({"email": "ann@example.com", "password": "1234567"}, {"password": ["Password must be at least 8 characters"]}),
    ],
)
async def test_register_validation_lists_problems_per_field(
    client: httpx.AsyncClient, payload: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    for field, messages in expected.items():
        assert error["details"][field] == messages
    if payload.get("email") == "not-an-email":
        assert error["details"]["email"][0].startswith("Email is not valid")


async def test_duplicate_email_is_409_with_field_and_value(client: httpx.AsyncClient) -> None:
    assert (await register(client)).status_code == 201
    response = await register(client, "ANN@example.com", "another password")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "DUPLICATE_ENTRY"
    assert error["details"] == {"field": "email", "value": "ann@example.com"}


async def test_login_right_and_wrong_password(client: httpx.AsyncClient) -> None:
    await register(client)
    ok = await client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.json()["data"]["refresh_token"]
    for email, password in [("ann@example.com", "wrong password"), ("nobody@example.com", PASSWORD)]:
        bad = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "INVALID_CREDENTIALS"
        assert bad.json()["error"]["message"] == "Invalid email or password"


async def test_api_keys_create_list_revoke_over_rest(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    created = await client.post("/api/v1/auth/api-keys", headers=admin_headers,
                                json={"name": "New Key", "permissions": ["orders:read", "orders:create"]})
    assert created.status_code == 201
    key = created.json()["data"]
    assert key["key"].startswith("sk_") and len(key["key"]) >= 35
    assert key["prefix"] == key["key"][:11]
    assert key["permissions"] == ["orders:read", "orders:create"]

    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    assert me.status_code == 200 and me.json()["data"]["kind"] == "api_key"

    listed = await client.get("/api/v1/auth/api-keys", headers=admin_headers, params={"limit": 10})
    assert listed.status_code == 200
    page = listed.json()["data"]
    assert page["total"] == 2 and page["page"] == 1 and page["limit"] == 10 and page["total_pages"] == 1
    assert {item["name"] for item in page["items"]} >= {"New Key"}
    assert key["key"] not in listed.text
    assert all("key" not in item and "key_hash" not in item for item in page["items"])

    deleted = await client.delete(f"/api/v1/auth/api-keys/{key['id']}", headers=admin_headers)
    assert deleted.status_code == 204 and deleted.content == b""
    refused = await client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "INVALID_API_KEY"
    missing = await client.delete(
        "/api/v1/auth/api-keys/00000000-0000-0000-0000-000000000000", headers=admin_headers)
    assert missing.status_code == 404


async def test_api_key_create_validation_and_no_escalation(client: httpx.AsyncClient, auth_headers: Any) -> None:
    limited = await auth_headers(["api-keys:create", "orders:read"])
    unknown = await client.post("/api/v1/auth/api-keys", headers=limited,
                                json={"name": "x", "permissions": ["orders:fly"]})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"]["permissions"] == ["Unknown permission: orders:fly"]
    escalate = await client.post("/api/v1/auth/api-keys", headers=limited,
                                 json={"name": "x", "permissions": ["admin:*"]})
    assert escalate.status_code == 403
    assert escalate.json()["error"]["required_permission"] == "admin:*"
    fine = await client.post("/api/v1/auth/api-keys", headers=limited,
                             json={"name": "x", "permissions": ["orders:read"]})
    assert fine.status_code == 201


async def test_users_see_only_their_own_keys(client: httpx.AsyncClient, db: Database) -> None:
    admin = await admin_session(client, db)
    made = await client.post("/api/v1/auth/api-keys", headers=admin,
                             json={"name": "root's", "permissions": ["orders:read"]})
    assert made.status_code == 201
    await register(client, "mgr@example.com")
    await set_role(db, "mgr@example.com", "manager")
    login = await client.post("/api/v1/auth/login", json={"email": "mgr@example.com", "password": PASSWORD})
    manager = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    listed = await client.get("/api/v1/auth/api-keys", headers=manager)
    assert listed.json()["data"]["total"] == 0
    # The manager may not delete keys at all (api-keys:delete is admin's).
    denied = await client.delete(f"/api/v1/auth/api-keys/{made.json()['data']['id']}", headers=manager)
    assert denied.status_code == 403


async def test_oauth_metadata_names_only_real_endpoints(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == "http://testserver/api/v1"
    assert metadata["token_endpoint"] == "http://testserver/api/v1/auth/token"
    assert set(metadata["grant_types_supported"]) == {"password", "refresh_token", "client_credentials"}
    assert "authorization_endpoint" not in metadata
    assert "orders:read" in metadata["scopes_supported"]
    assert (await client.post("/api/v1/auth/token", data={"grant_type": "password"})).status_code != 404


async def test_oauth_token_grants(client: httpx.AsyncClient, auth_headers: Any, db: Database) -> None:
    await register(client)
    password = await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": "ann@example.com", "password": PASSWORD})
    assert password.status_code == 200
    body = password.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] and "success" not in body
    assert password.headers["cache-control"] == "no-store"

    refreshed = await client.post("/api/v1/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != body["refresh_token"]

    headers = await auth_headers(["orders:read"])
    secret = headers["X-API-Key"]
    client_credentials = await client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_secret": secret})
    assert client_credentials.status_code == 200
    access = client_credentials.json()["access_token"]
    assert "refresh_token" not in client_credentials.json()
    assert client_credentials.json()["scope"] == "orders:read"
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.json()["data"]["kind"] == "api_key"

    basic = base64.b64encode(f"{me.json()['data']['id']}:{secret}".encode()).decode()
    via_basic = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials"},
                                  headers={"Authorization": f"Basic {basic}"})
    assert via_basic.status_code == 200

    bad_secret = await client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_secret": "sk_" + "y" * 43})
    assert bad_secret.status_code == 401 and bad_secret.json()["error"]["code"] == "INVALID_API_KEY"
    unsupported = await client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert unsupported.status_code == 400
    assert "grant_type" in unsupported.json()["error"]["details"]


async def test_oauth_token_refusals_name_the_missing_or_wrong_parameter(
    client: httpx.AsyncClient, auth_headers: Any
) -> None:
    async def refused(status: int, code: str, data: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        response = await client.post("/api/v1/auth/token", data=data, **kwargs)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error["code"] == code
        return error

    assert (await refused(400, "VALIDATION_ERROR", {}))["details"] == {"grant_type": ["Grant type is required"]}
    assert (await refused(400, "VALIDATION_ERROR", {"grant_type": "implicit"}))["details"] == {
        "grant_type": ["grant_type must be one of: password, refresh_token, client_credentials"]}
    assert (await refused(400, "VALIDATION_ERROR", {"grant_type": "refresh_token"}))["details"] == {
        "refresh_token": ["Refresh token is required"]}
    assert (await refused(400, "VALIDATION_ERROR", {"grant_type": "client_credentials"}))["details"] == {
        "client_secret": ["Client secret (the API key) is required"]}
    assert (await refused(400, "VALIDATION_ERROR", {"grant_type": "password"}))["details"] == {
        "email": ["Email is required"], "password": ["Password is required"]}

    secret = (await auth_headers(["orders:read"]))["X-API-Key"]
    mismatch = await refused(401, "INVALID_API_KEY", {"grant_type": "client_credentials", "client_id": "another",
                                                      "client_secret": secret})
    assert mismatch["message"] == "client_id does not match the API key"
    malformed = {"Authorization": "Basic abc"}  # bad padding
    await refused(401, "INVALID_API_KEY", {"grant_type": "client_credentials"}, headers=malformed)
    # Only client_credentials reads HTTP Basic: a password grant with a stray header still signs in.
    await register(client)
    password = await client.post("/api/v1/auth/token", headers=malformed, data={
        "grant_type": "password", "username": "ann@example.com", "password": PASSWORD})
    assert password.status_code == 200, password.text
    assert password.json()["scope"] == " ".join(sorted(password.json()["scope"].split()))


async def test_login_brute_force_answers_429_with_retry_after(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(5):
        bad = await client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "nope-nope"})
        assert bad.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    # another account from another client is unaffected
    await register(client, "bob@example.com")
    other = await client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    assert other.status_code == 200


async def test_brute_force_per_ip_across_emails(client: httpx.AsyncClient, app: Any) -> None:
    from limits.aio.storage import MemoryStorage

    from stateset_gateway.auth.login_guard import GuardLimits, LoginGuard

    # Same code path, a smaller budget: keeps the test fast (each failed login costs an Argon2 verify).
    app.state.login_guard = LoginGuard(MemoryStorage(), GuardLimits(per_email="5 per minute", per_ip="3 per minute"))
    for i in range(3):
        response = await client.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x" * 8})
        assert response.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"email": "fresh@example.com", "password": "x" * 8})
    assert blocked.status_code == 429


async def test_brute_force_is_shared_through_redis(database_url: str, redis_url: str, db: Database) -> None:
    import uuid

    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    settings = load_settings(database_url=database_url, redis_url=redis_url)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    apps = [create_app(settings), create_app(settings)]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://testserver") for a in apps]
        for i in range(5):
            await clients[i % 2].post("/api/v1/auth/login", json={"email": email, "password": "wrong pass"})
        blocked = await clients[1].post("/api/v1/auth/login", json={"email": email, "password": "wrong pass"})
        assert blocked.status_code == 429
        for c in clients:
            await c.aclose()
        guard = apps[0].state.login_guard  # leave no counters behind in the shared Redis
        await guard.limiter.clear(guard.ip_limit, "ip", "127.0.0.1")
        await guard.limiter.clear(guard.email_limit, "email", email)


async def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(client: httpx.AsyncClient, db: Any) -> None:
    import asyncio

    from stateset_gateway.auth import users

    await users.register(db, "burst@example.com", "SecurePass123!")
    attempts = [client.post("/api/v1/auth/login", json={"email": "burst@example.com", "password": f"wrong-{i}xx"})
                for i in range(12)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*attempts))
    assert statuses.count(401) == 5
    assert statuses.count(429) == 7


async def test_self_registration_can_be_switched_off_and_its_role_chosen(database_url: str, db: Any) -> None:
    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    body = {"email": "newcomer@example.com", "password": "SecurePass123!"}
    closed = create_app(load_settings(database_url=database_url, auth={"allow_registration": False}))
    async with closed.router.lifespan_context(closed):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://t") as c:
            refused = await c.post("/api/v1/auth/register", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"
    readonly = create_app(load_settings(database_url=database_url, auth={"registration_role": "readonly"}))
    async with readonly.router.lifespan_context(readonly):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=readonly), base_url="http://t") as c:
            token = (await c.post("/api/v1/auth/register", json=body)).json()["data"]["access_token"]
            me = (await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).json()["data"]
    assert me["role"] == "readonly"
