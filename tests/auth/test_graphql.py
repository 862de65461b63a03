"""GraphQL auth: register, login, refreshToken, logout, me and API keys answer like REST does."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "correct horse"
AUTH = "accessToken refreshToken tokenType expiresIn user { email role permissions }"


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=headers or {})
    return response.json()  # type: ignore[no-any-return]


async def test_register_login_me_refresh_logout(client: httpx.AsyncClient) -> None:
    registered = await gql(client, f"mutation($i: RegisterInput!) {{ register(input: $i) {{ {AUTH} }} }}",
                           {"i": {"email": "gql@example.com", "password": PASSWORD}})
    assert "errors" not in registered, registered
    assert registered["data"]["register"]["user"]["role"] == "user"

    login = await gql(client, f"mutation($i: LoginInput!) {{ login(input: $i) {{ {AUTH} }} }}",
                      {"i": {"email": "gql@example.com", "password": PASSWORD}})
    session = login["data"]["login"]
    bearer = {"Authorization": f"Bearer {session['accessToken']}"}
    me = await gql(client, "{ me { kind email role permissions } }", headers=bearer)
    assert me["data"]["me"]["email"] == "gql@example.com" and me["data"]["me"]["kind"] == "user"

    refreshed = await gql(client, f"mutation($t: String!) {{ refreshToken(refreshToken: $t) {{ {AUTH} }} }}",
                          {"t": session["refreshToken"]})
    new = refreshed["data"]["refreshToken"]
    assert new["refreshToken"] != session["refreshToken"]
    reuse = await gql(client, f"mutation($t: String!) {{ refreshToken(refreshToken: $t) {{ {AUTH} }} }}",
                      {"t": session["refreshToken"]})
    assert reuse["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
    assert reuse["errors"][0]["extensions"]["status"] == 401

    other = (await gql(client, f"mutation($i: LoginInput!) {{ login(input: $i) {{ {AUTH} }} }}",
                       {"i": {"email": "gql@example.com", "password": PASSWORD}}))["data"]["login"]
    other_bearer = {"Authorization": f"Bearer {other['accessToken']}"}
    out = await gql(client, "mutation { logout }", headers=other_bearer)
    assert out["data"]["logout"] is True
    after = await gql(client, "{ me { email } }", headers=other_bearer)
    assert after["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


async def test_graphql_errors_carry_documented_codes(client: httpx.AsyncClient) -> None:
    bad = await gql(client, "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
                    {"i": {"email": "nope", "password": "short"}})
    error = bad["errors"][0]["extensions"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["password"] == ["Password must be at least 8 characters"]

    wrong = await gql(client, "mutation { login(input: {email: \"x@example.com\", password: \"whatever1\"}) "
                              "{ accessToken } }")
    assert wrong["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"

    anonymous = await gql(client, "{ me { email } }")
    assert anonymous["errors"][0]["extensions"] == {"code": "INVALID_TOKEN", "status": 401}


async def test_api_keys_over_graphql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    created = await gql(client, """
        mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id name prefix permissions } } }
    """, {"i": {"name": "gql key", "permissions": ["orders:read"]}}, admin_headers)
    assert "errors" not in created, created
    key = created["data"]["createApiKey"]
    assert key["key"].startswith(key["apiKey"]["prefix"])

    listed = await gql(client, "{ apiKeys(limit: 5) { total items { name revokedAt } } }", headers=admin_headers)
    assert listed["data"]["apiKeys"]["total"] == 2
    assert key["key"] not in str(listed)

    denied = await gql(client, "{ apiKeys { total } }", headers={"X-API-Key": key["key"]})
    assert denied["errors"][0]["extensions"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert denied["errors"][0]["extensions"]["required_permission"] == "api-keys:read"

    revoked = await gql(client, "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
                        {"id": key["apiKey"]["id"]}, admin_headers)
    assert revoked["data"]["revokeApiKey"]["revokedAt"]
    refused = await gql(client, "{ me { kind } }", headers={"X-API-Key": key["key"]})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_API_KEY"
