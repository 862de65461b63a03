"""Tokens: each way a JWT can be wrong answers its documented code (CONTRACT section 2)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from stateset_gateway.auth import tokens
from stateset_gateway.config import Settings
from stateset_gateway.db.types import utcnow
from tests.support.auth import ME, bearer, error_code, sign_up


def claims_for(settings: Settings, user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    claims = {"sub": user_id, "jti": "x", "iat": now, "nbf": now, "exp": now + 600, "iss": settings.auth.jwt_issuer,
              "aud": settings.auth.jwt_audience, "type": "access", "roles": ["user"], "permissions": []}
    claims.update(overrides)
    return claims


async def test_access_token_works_and_carries_documented_claims(client: httpx.AsyncClient,
                                                                 settings: Settings) -> None:
    session = await sign_up(client)
    response = await client.get(ME, headers=bearer(session["access_token"]))
    assert response.status_code == 200
    assert response.json()["data"]["email"] == "ann@example.com"
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    assert {"sub", "roles", "permissions", "jti", "iat", "nbf", "exp", "iss", "aud", "type"} <= claims.keys()
    assert claims["type"] == "access" and claims["roles"] == ["user"]
    assert claims["exp"] - claims["iat"] == settings.auth.access_token_ttl_seconds
    refresh_claims = jwt.decode(session["refresh_token"], options={"verify_signature": False})
    assert refresh_claims["type"] == "refresh"
    assert refresh_claims["exp"] - refresh_claims["iat"] == settings.auth.refresh_token_ttl_seconds


async def test_expired_access_token_is_token_expired(client: httpx.AsyncClient, settings: Settings) -> None:
    session = await sign_up(client)
    user_id = session["user"]["id"]
    import uuid

    old = tokens.issue_access_token(settings, subject=uuid.UUID(user_id), permissions=[],
                                    now=utcnow() - timedelta(hours=1))
    response = await client.get(ME, headers=bearer(old))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert response.json()["error"]["message"] == "Access token has expired"


async def test_tampered_token_is_invalid(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    header, payload, signature = session["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"], claims["permissions"] = ["admin"], ["admin:*"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = await client.get(ME, headers=bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_refresh_token_used_as_access_is_invalid(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    response = await client.get(ME, headers=bearer(session["refresh_token"]))
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"
    # and the other way round
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["access_token"]})
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


@pytest.mark.parametrize("case", ["alg_none", "hs512", "wrong_secret", "wrong_audience", "wrong_issuer",
                                  "missing_claim", "garbage", "bad_scheme"])
async def test_forged_tokens_are_invalid(client: httpx.AsyncClient, settings: Settings, case: str) -> None:
    session = await sign_up(client)
    user_id = session["user"]["id"]
    secret = settings.auth.jwt_secret.get_secret_value()
    headers: dict[str, str]
    if case == "alg_none":
        headers = bearer(jwt.encode(claims_for(settings, user_id), None, algorithm="none"))  # type: ignore[arg-type]
    elif case == "hs512":
        headers = bearer(jwt.encode(claims_for(settings, user_id), secret, algorithm="HS512"))
    elif case == "wrong_secret":
        headers = bearer(jwt.encode(claims_for(settings, user_id), "another-secret-" * 3, algorithm="HS256"))
    elif case == "wrong_audience":
        headers = bearer(jwt.encode(claims_for(settings, user_id, aud="someone-else"), secret, algorithm="HS256"))
    elif case == "wrong_issuer":
        headers = bearer(jwt.encode(claims_for(settings, user_id, iss="evil"), secret, algorithm="HS256"))
    elif case == "missing_claim":
        claims = claims_for(settings, user_id)
        del claims["type"]
        headers = bearer(jwt.encode(claims, secret, algorithm="HS256"))
    elif case == "garbage":
        headers = bearer("not.a.jwt")
    else:
        headers = {"Authorization": f"Token {session['access_token']}"}
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"
    assert response.json()["error"]["message"]


async def test_refresh_rotates_and_the_old_token_is_single_use(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()["data"]
    assert rotated["refresh_token"] != session["refresh_token"]
    assert (await client.get(ME, headers=bearer(rotated["access_token"]))).status_code == 200

    # Re-using the spent token is theft: the whole family goes, including the newer tokens.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert reuse.status_code == 401
    assert error_code(reuse) == "INVALID_TOKEN"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    assert error_code(after) == "INVALID_TOKEN"
    response = await client.get(ME, headers=bearer(rotated["access_token"]))
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


async def test_other_sessions_survive_a_family_revocation(client: httpx.AsyncClient) -> None:
    first = await sign_up(client)
    login = await client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "correct horse"})
    second = login.json()["data"]
    await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})  # reuse
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200


async def test_expired_refresh_token_is_token_expired(client: httpx.AsyncClient, settings: Settings) -> None:
    import uuid

    session = await sign_up(client)
    stale = tokens.issue_refresh_token(settings, user_id=uuid.UUID(session["user"]["id"]), jti=uuid.uuid4(),
                                       family_id=uuid.uuid4(), now=utcnow() - timedelta(days=30))
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": stale})
    assert response.status_code == 401
    assert error_code(response) == "TOKEN_EXPIRED"
    assert response.json()["error"]["message"] == "Refresh token has expired"


async def test_logout_revokes_access_and_refresh_tokens(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    response = await client.post("/api/v1/auth/logout", headers=bearer(session["access_token"]))
    assert response.status_code == 204
    revoked = await client.get(ME, headers=bearer(session["access_token"]))
    assert revoked.status_code == 401 and error_code(revoked) == "INVALID_TOKEN"
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 401 and error_code(refresh) == "INVALID_TOKEN"


async def test_logout_with_refresh_token_only(client: httpx.AsyncClient) -> None:
    session = await sign_up(client)
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 204
    assert (await client.get(ME, headers=bearer(session["access_token"]))).status_code == 401
    anonymous = await client.post("/api/v1/auth/logout")
    assert anonymous.status_code == 401 and error_code(anonymous) == "INVALID_TOKEN"


async def test_role_change_applies_to_existing_tokens(client: httpx.AsyncClient, db: Any) -> None:
    from stateset_gateway.auth.users import set_role

    session = await sign_up(client)
    keys = await client.get("/api/v1/auth/api-keys", headers=bearer(session["access_token"]))
    assert keys.status_code == 403
    await set_role(db, "ann@example.com", "admin")
    keys = await client.get("/api/v1/auth/api-keys", headers=bearer(session["access_token"]))
    assert keys.status_code == 200
