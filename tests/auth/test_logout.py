"""Logout through both transports: one rule (either credential ends the session, neither is
INVALID_TOKEN), the same effect on the session whichever transport the client used."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.auth import ME, bearer, error_code, sign_up

LOGOUT_GRAPHQL = "mutation($t: String) { logout(refreshToken: $t) }"


async def rest_logout(client: httpx.AsyncClient, access: str | None, refresh: str | None) -> None:
    response = await client.post("/api/v1/auth/logout", headers=bearer(access) if access else {},
                                 json={"refresh_token": refresh} if refresh else None)
    assert response.status_code == 204, response.text


async def graphql_logout(client: httpx.AsyncClient, access: str | None, refresh: str | None) -> None:
    response = await client.post("/graphql", json={"query": LOGOUT_GRAPHQL, "variables": {"t": refresh}},
                                 headers=bearer(access) if access else {})
    assert response.json()["data"] == {"logout": True}, response.text


async def session_is_over(client: httpx.AsyncClient, session: dict[str, Any]) -> None:
    me = await client.get(ME, headers=bearer(session["access_token"]))
    assert me.status_code == 401 and error_code(me) == "INVALID_TOKEN"
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 401 and error_code(refresh) == "INVALID_TOKEN"


@pytest.mark.parametrize("logout", [rest_logout, graphql_logout], ids=["rest", "graphql"])
@pytest.mark.parametrize("credential", ["access", "refresh", "both"])
async def test_either_credential_ends_the_session(client: httpx.AsyncClient, logout: Any, credential: str) -> None:
    session = await sign_up(client)
    other = await sign_up(client, "bob@example.com")
    await logout(client, session["access_token"] if credential in ("access", "both") else None,
                 session["refresh_token"] if credential in ("refresh", "both") else None)
    await session_is_over(client, session)
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200, "only that session"


async def test_logout_without_credentials_is_invalid_token_in_both_transports(client: httpx.AsyncClient) -> None:
    rest = await client.post("/api/v1/auth/logout")
    assert rest.status_code == 401 and error_code(rest) == "INVALID_TOKEN"
    assert rest.json()["error"]["message"] == \
        "Send the access token (Authorization: Bearer) or a refresh_token to log out"
    graphql = (await client.post("/graphql", json={"query": LOGOUT_GRAPHQL})).json()
    assert graphql["data"] is None
    error = graphql["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["status"]) == ("INVALID_TOKEN", 401)
    assert error["message"] == "Send the access token (Authorization: Bearer) or a refreshToken to log out"
