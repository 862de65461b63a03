"""The caller is named once per request, and one caller has one name: the budgets count an API key,
and the access token the client-credentials grant made from it, against one budget."""

from __future__ import annotations

import httpx
import pytest

from tests.support.auth import AuthHeaders

ORDERS = "/api/v1/orders"


@pytest.mark.settings(rate_limit="3/minute")
async def test_a_key_and_the_token_made_from_it_share_one_budget(
    client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    key = await auth_headers(["orders:read"])
    granted = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                            "client_secret": key["X-API-Key"]})
    token = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    first_use = await client.get(ORDERS, headers=key)  # not seen to authenticate yet: the address pays
    assert first_use.headers["x-ratelimit-remaining"] == "1"
    as_key = await client.get(ORDERS, headers=key)
    as_token = await client.get(ORDERS, headers=token)
    assert (as_key.status_code, as_token.status_code) == (200, 200)
    assert [as_key.headers["x-ratelimit-remaining"], as_token.headers["x-ratelimit-remaining"]] == ["2", "1"]
    anonymous = await client.post("/graphql", json={"query": "{ __typename }"})
    assert anonymous.headers["x-ratelimit-remaining"] == "0"  # the address: the grant and the first use


@pytest.mark.settings(rate_limit="3/minute")
async def test_an_invalid_token_counts_against_the_address(client: httpx.AsyncClient) -> None:
    forged = {"Authorization": "Bearer not.a.token"}
    statuses = [(await client.get(ORDERS, headers=forged)).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    refused = await client.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"
