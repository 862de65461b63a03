"""Which credentials a request may present: one API key and at most one bearer token. Every credential
present is checked, so a bad one is never hidden behind a good one; an API key sent as a bearer
credential (`Authorization: Bearer sk_...`, as StateSet's SDKs send it) is that API key."""

from __future__ import annotations

import httpx
import pytest

from stateset_gateway.auth.api_keys import authenticate_api_key, revoke_api_key
from stateset_gateway.auth.caller import Callers
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from tests.support.auth import AuthHeaders, bearer, error_code, sign_up

ORDERS = "/api/v1/orders"
ME_QUERY = {"query": "{ me { __typename } }"}
MADE_UP_KEY = "sk_" + "x" * 43


async def both_transports(client: httpx.AsyncClient, headers: list[tuple[str, str]]) -> list[tuple[int, str | None]]:
    """(status, error code) of a REST request and of a GraphQL one (its error's status) sent with these headers."""
    rest = await client.get(ORDERS, headers=headers)
    graphql = await client.post("/graphql", json=ME_QUERY, headers=headers)
    problem = (graphql.json().get("errors") or [{"extensions": {"status": graphql.status_code, "code": None}}])[0]
    return [(rest.status_code, rest.json()["error"]["code"] if rest.status_code >= 400 else None),
            (problem["extensions"]["status"], problem["extensions"]["code"])]


async def test_a_bad_bearer_token_beside_a_good_key_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    key = admin_headers["X-API-Key"]
    for authorization in ("Bearer junk", "Basic abc", "Bearer " + MADE_UP_KEY):
        answers = await both_transports(client, [("X-API-Key", key), ("Authorization", authorization)])
        expected = "INVALID_API_KEY" if authorization.endswith(MADE_UP_KEY) else "INVALID_TOKEN"
        assert answers == [(401, expected), (401, expected)], authorization


async def test_a_bad_key_beside_a_good_bearer_token_is_refused(client: httpx.AsyncClient) -> None:
    token = (await sign_up(client))["access_token"]
    answers = await both_transports(client, [("Authorization", f"Bearer {token}"), ("X-API-Key", MADE_UP_KEY)])
    assert answers == [(401, "INVALID_API_KEY"), (401, "INVALID_API_KEY")]


async def test_a_good_key_and_a_good_token_together_still_work(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    token = (await sign_up(client))["access_token"]
    answers = await both_transports(client, [("X-API-Key", admin_headers["X-API-Key"]),
                                             ("Authorization", f"Bearer {token}")])
    assert answers == [(200, None), (200, None)]


@pytest.mark.parametrize("second", ["made-up", "same", "other-good"])
async def test_a_repeated_api_key_header_is_refused_whichever_comes_first(
    client: httpx.AsyncClient, auth_headers: AuthHeaders, second: str
) -> None:
    good = (await auth_headers(["orders:read"]))["X-API-Key"]
    other = {"made-up": MADE_UP_KEY, "same": good, "other-good": (await auth_headers(["orders:read"]))["X-API-Key"]}
    for pair in ([good, other[second]], [other[second], good]):
        answers = await both_transports(client, [("X-API-Key", pair[0]), ("X-API-Key", pair[1])])
        assert answers == [(401, "INVALID_API_KEY"), (401, "INVALID_API_KEY")], pair


async def test_a_repeated_authorization_header_is_refused(client: httpx.AsyncClient) -> None:
    token = (await sign_up(client))["access_token"]
    for second in (token, "junk"):
        answers = await both_transports(client, [("Authorization", f"Bearer {token}"),
                                                 ("Authorization", f"Bearer {second}")])
        assert answers == [(401, "INVALID_TOKEN"), (401, "INVALID_TOKEN")], second


async def test_an_api_key_sent_as_a_bearer_credential_is_that_key(
    client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    key = (await auth_headers(["orders:read"]))["X-API-Key"]
    assert await both_transports(client, [("Authorization", f"Bearer {key}")]) == [(200, None), (200, None)]
    forbidden = await client.post(ORDERS, json={}, headers=bearer(key))
    assert (forbidden.status_code, error_code(forbidden)) == (403, "INSUFFICIENT_PERMISSIONS")


async def test_a_bad_api_key_sent_as_a_bearer_credential_gets_the_api_key_errors(
    client: httpx.AsyncClient, auth_headers: AuthHeaders, db: Database
) -> None:
    key = (await auth_headers(["orders:read"]))["X-API-Key"]
    first_use = await client.get(ORDERS, headers=bearer(key))
    assert first_use.status_code == 200
    await revoke_api_key(db, (await authenticate_api_key(db, key)).id)
    for credential in (key, MADE_UP_KEY, "sk_short"):
        answers = await both_transports(client, [("Authorization", f"Bearer {credential}")])
        assert answers == [(401, "INVALID_API_KEY"), (401, "INVALID_API_KEY")], credential
    revoked = await client.get(ORDERS, headers=bearer(key))
    assert revoked.json()["error"]["message"] == "API key is invalid or revoked"


async def test_an_api_key_as_header_and_as_bearer_credential_is_two_keys(
    client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    key = (await auth_headers(["orders:read"]))["X-API-Key"]
    answers = await both_transports(client, [("X-API-Key", key), ("Authorization", f"Bearer {key}")])
    assert answers == [(401, "INVALID_API_KEY"), (401, "INVALID_API_KEY")]


def test_an_api_key_as_bearer_credential_is_never_decoded_as_a_token(settings: Settings) -> None:
    caller = Callers(settings).identify([], [b"Bearer " + MADE_UP_KEY.encode()], None)
    assert caller.api_key == MADE_UP_KEY and caller.authorization is None
