"""No password, token, API key or hash ever reaches a log line, and responses show secrets only
where the client must receive them (the token response, the one-time key)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.auth import ApiKey, User
from stateset_gateway.http.logs import JsonFormatter

PASSWORD = "s3cret-Passw0rd-xyz"


async def test_no_secret_in_logs_or_unexpected_responses(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    # The default level (INFO) everywhere, and everything our own code logs even at DEBUG.
    # (Third-party DEBUG output is out of scope: aiosqlite logs SQL parameters at DEBUG.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="stateset_gateway")
    secrets: list[str] = [PASSWORD, admin_headers["X-API-Key"]]
    responses: list[httpx.Response] = []

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        responses.append(response)
        return response

    session = (await call("POST", "/api/v1/auth/register", json={"email": "leak@example.com", "password": PASSWORD}))
    tokens = session.json()["data"]
    secrets += [tokens["access_token"], tokens["refresh_token"]]
    await call("POST", "/api/v1/auth/login", json={"email": "leak@example.com", "password": PASSWORD + "-wrong"})
    secrets.append(PASSWORD + "-wrong")
    rotated = (await call("POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    secrets += [rotated["data"]["access_token"], rotated["data"]["refresh_token"]]
    await call("POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # reuse
    created = await call("POST", "/api/v1/auth/api-keys", headers=admin_headers,
                         json={"name": "leaky", "permissions": ["orders:read"]})
    secrets.append(created.json()["data"]["key"])
    await call("GET", "/api/v1/auth/me", headers={"X-API-Key": created.json()["data"]["key"]})
    await call("GET", "/api/v1/auth/me", headers={"X-API-Key": "sk_" + "z" * 43})
    secrets.append("sk_" + "z" * 43)
    await call("GET", "/api/v1/auth/me", headers={"Authorization": "Bearer " + tokens["access_token"] + "x"})
    await call("GET", "/api/v1/auth/api-keys", headers=admin_headers)
    await call("POST", "/api/v1/auth/register", json={"email": "leak@example.com", "password": PASSWORD})
    await call("POST", "/api/v1/auth/register", json={"email": "bad", "password": "short-pw"})

    async with db.reader() as s:
        secrets += [u.password_hash for u in (await s.execute(select(User))).scalars()]
        secrets += [k.key_hash for k in (await s.execute(select(ApiKey))).scalars()]

    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert logged, "expected the requests to be logged"
    for secret in secrets:
        assert secret not in logged

    # Responses: the password and hashes never; tokens and keys only in the responses that issue them.
    issuing = {id(responses[0]), id(responses[2]), id(created)}
    hashes = secrets[-2:]
    for response in responses:
        assert PASSWORD not in response.text
        assert "short-pw" not in response.text
        for digest in hashes:
            assert digest not in response.text
        if id(response) not in issuing:
            for secret in secrets[1:]:
                assert secret not in response.text, response.request.url
