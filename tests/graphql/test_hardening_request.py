"""The GraphQL-over-HTTP request parameters have types: a request whose operationName is not a
string or whose extensions are not an object is malformed, 400, whatever its other parameters."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = "query Q { __typename }"

MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("operationName 0", {"operationName": 0}),
    ("operationName false", {"operationName": False}),
    ("operationName a list", {"operationName": ["Q"]}),
    ("operationName an object", {"operationName": {}}),
    ("extensions a string", {"extensions": "x"}),
    ("extensions an empty string", {"extensions": ""}),
    ("extensions a list", {"extensions": []}),
    ("extensions a number", {"extensions": 0}),
    ("variables a list", {"variables": []}),
    ("variables a string", {"variables": "{}"}),
]


@pytest.mark.parametrize("media", [GRAPHQL_RESPONSE, "application/json"])
@pytest.mark.parametrize("params", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_mistyped_parameters_are_refused_over_post(
    client: httpx.AsyncClient, admin_headers: dict[str, str], params: dict[str, Any], media: str
) -> None:
    response = await client.post("/graphql", json={"query": QUERY, **params},
                                 headers={**admin_headers, "Accept": media})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "data" not in response.json()


@pytest.mark.parametrize("params", [{"extensions": "x"}, {"extensions": "[]"}, {"extensions": "{"},
                                    {"variables": "[]"}])
async def test_mistyped_parameters_are_refused_over_get(
    client: httpx.AsyncClient, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/graphql", params={"query": QUERY, **params},
                                headers={**admin_headers, "Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_well_typed_optional_parameters_are_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for params in ({"operationName": None, "extensions": None, "variables": None},
                   {"operationName": "Q", "extensions": {"persistedQuery": None}, "variables": {}}):
        response = await client.post("/graphql", json={"query": QUERY, **params},
                                     headers={**admin_headers, "Accept": GRAPHQL_RESPONSE})
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {"__typename": "Query"}
    response = await client.get("/graphql", params={"query": QUERY, "extensions": orjson.dumps({}).decode()},
                                headers=admin_headers)
    assert response.json()["data"] == {"__typename": "Query"}
