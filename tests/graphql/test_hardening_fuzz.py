"""Generated GraphQL documents and variables over the schema, through HTTP as a client sends them:
whatever the document (valid or breaking one rule of the schema) and whatever the variables, the
answer is a well-formed GraphQL response and never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from stateset_gateway.schema.schema import build_schema

SCHEMA = build_schema()._schema
SCALARS = {
    "Decimal": st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=2), st.text(max_size=8)).map(
        nodes.String),
    "DateTime": st.one_of(st.datetimes(), st.text(max_size=12)).map(nodes.String),
}
DOCUMENTS = st.one_of(
    *(strategy(SCHEMA, custom_scalars=SCALARS, mode=mode)
      for strategy in (queries, mutations) for mode in (Mode.POSITIVE, Mode.NEGATIVE)))

# Operations that declare variables of each kind, sent with any JSON as their values.
WITH_VARIABLES = [
    "query($s: OrderStatus!, $n: Int) { orders(filter: {status: $s}, first: $n) { totalCount nodes { id } } }",
    "query($f: OrderFilter, $after: String) { orders(filter: $f, after: $after) { pageInfo { endCursor } } }",
    "query($id: ID!) { order(id: $id) { id items { id } } }",
    "mutation($p: Decimal!, $a: Boolean) { createProduct(input: {sku: \"F\", name: \"F\", price: $p, "
    "isActive: $a}) { id } }",
    "mutation($i: AdjustInventoryInput!) { adjustInventory(input: $i) { onHand } }",
    "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }",
]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
NAMES = st.sampled_from(["s", "n", "f", "after", "id", "p", "a", "i", "status", "first", "orderId"])
VARIABLES = st.tuples(st.sampled_from(WITH_VARIABLES), st.dictionaries(NAMES, JSON, max_size=4))
REQUESTS = st.one_of(DOCUMENTS.map(lambda document: (document, {})), VARIABLES)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway alone, not checked against graphql-core as the other tests here are: these documents
    often have several root fields that fail, and which of their errors graphql-core reports depends
    on the order its resolvers finish (test_executor_equivalence sends one root field per query)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def assert_well_formed(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    assert set(body) <= {"data", "errors", "extensions"}, body
    assert "data" in body or body.get("errors"), body
    for error in body.get("errors", ()):
        assert isinstance(error["message"], str)
        assert error["extensions"]["code"] != "INTERNAL_ERROR", error
        assert isinstance(error["extensions"]["status"], int)


@seed(20261201)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(request=REQUESTS)
async def test_generated_documents_and_variables_never_answer_5xx(
    client: httpx.AsyncClient, admin_headers: dict[str, str], request: tuple[str, dict[str, Any]]
) -> None:
    document, variables = request
    response = await client.post("/graphql", json={"query": document, "variables": variables},
                                 headers={**admin_headers, "Accept": "application/graphql-response+json"})
    assert_well_formed(response)
