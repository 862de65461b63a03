"""Variables that cannot be coerced are the client's mistake: VALIDATION_ERROR, 400 under
application/graphql-response+json, never an INTERNAL_ERROR and never counted as one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

GRAPHQL_RESPONSE = "application/graphql-response+json"

ORDERS_BY_STATUS = "query($s: OrderStatus!) { orders(filter: {status: $s}, first: 1) { nodes { id } } }"
PAGE = "query($n: Int) { orders(first: $n) { totalCount } }"
CREATED_FROM = "query($d: DateTime) { orders(filter: {createdFrom: $d}) { totalCount } }"
PRODUCT = ('mutation($p: Decimal!) { createProduct(input: {sku: "S-1", name: "N", price: $p}) { id } }')

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("missing required variable", ORDERS_BY_STATUS, {}),
    ("null for a required variable", ORDERS_BY_STATUS, {"s": None}),
    ("unknown enum value", ORDERS_BY_STATUS, {"s": "NOPE"}),
    ("Int of 2^31", PAGE, {"n": 2**31}),
    ("Int of -2^31 - 1", PAGE, {"n": -(2**31) - 1}),
    ("Int of 1.5", PAGE, {"n": 1.5}),
    ("Int of a string", PAGE, {"n": "1"}),
    ("Int of a list", PAGE, {"n": [1]}),
    ("Decimal of letters", PRODUCT, {"p": "abc"}),
    ("Decimal of a list", PRODUCT, {"p": []}),
    ("Decimal of an object", PRODUCT, {"p": {}}),
    ("DateTime out of range", CREATED_FROM, {"d": "2025-13-45"}),
    ("DateTime of a number", CREATED_FROM, {"d": 5}),
    ("input object of a string", "query($f: OrderFilter) { orders(filter: $f) { totalCount } }", {"f": "x"}),
    ("unknown input field", "query($f: OrderFilter) { orders(filter: $f) { totalCount } }", {"f": {"nope": 1}}),
]


@pytest.mark.parametrize(("query", "variables"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_uncoercible_variables_are_validation_errors(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str, variables: dict[str, Any]
) -> None:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={**admin_headers, "Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION_ERROR"] * len(body["errors"])
    assert all(e["extensions"]["status"] == 400 for e in body["errors"])
    legacy = await client.post("/graphql", json={"query": query, "variables": variables}, headers=admin_headers)
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    metrics = (await client.get("/metrics", headers=admin_headers)).text
    assert "stateset_errors_total" in metrics
    assert 'code="INTERNAL_ERROR"' not in metrics
