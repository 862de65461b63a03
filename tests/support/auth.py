"""Signing in from tests: a user through the REST routes, headers for a token, and the type of the
`auth_headers` fixture (a fresh API key holding exactly the permissions asked for)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

AuthHeaders = Callable[[list[str]], Awaitable[dict[str, str]]]

ME = "/api/v1/auth/me"


async def sign_up(client: httpx.AsyncClient, email: str = "ann@example.com") -> dict[str, Any]:
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": "correct horse"})
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]  # type: ignore[no-any-return]
