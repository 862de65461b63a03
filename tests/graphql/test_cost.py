"""Query cost and depth: computed before execution, reported in extensions.cost, enforced."""

from __future__ import annotations

import httpx

from tests.support.graphql_client import GraphQLClient

NESTED = "{ orders(first: 50) { nodes { customer { email } items { product { inventoryLevels { onHand } } } } } }"


async def test_cost_is_reported_and_connections_multiply_by_their_page(gql: GraphQLClient) -> None:
    small = (await gql.post("{ orders(first: 10) { totalCount nodes { customer { email } } } }")).json()
    cost = small["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["maximumAvailable"]) == (1 + 1 + 10 * (1 + 1), 25_000)  # totalCount: one COUNT
    assert cost["budget"]["limit"] == 250_000  # the client's budget, spent by what it has run so far
    assert cost["budget"]["remaining"] <= 250_000 - 21
    default = (await gql.post("{ orders { nodes { id } } }")).json()
    assert default["extensions"]["cost"]["requestedQueryCost"] == 1 + 20 * 1
    by_variable = (await gql.post("query($n: Int) { orders(first: $n) { nodes { id } } }", {"n": 5})).json()
    assert by_variable["extensions"]["cost"]["requestedQueryCost"] == 1 + 5
    nested = (await gql.post(NESTED)).json()
    assert nested["extensions"]["cost"]["requestedQueryCost"] == 1 + 50 * (1 + 1 + 1 + 1 + 1)


async def test_a_documents_cost_follows_its_page_variables_from_request_to_request(gql: GraphQLClient) -> None:
    """Costs are remembered per document by the values of the variables that size its pages, and
    only those: the same text asked for other page sizes costs what they load."""
    query = """query($n: Int, $m: Int, $status: OrderStatus) { orders(first: $n, filter: {status: $status}) {
        nodes { id customer { orders(first: $m) { nodes { id } } } } } }"""

    async def cost(variables: dict[str, object]) -> int:
        return (await gql.post(query, variables)).json()["extensions"]["cost"]["requestedQueryCost"]

    def expected(n: int, m: int) -> int:  # orders, then per order: nodes, customer, orders, m nodes
        return 1 + n * (3 + m)

    assert await cost({"n": 2, "m": 3}) == expected(2, 3)
    assert await cost({"n": 10, "m": 3}) == expected(10, 3)
    assert await cost({"n": 2, "m": 3, "status": "PENDING"}) == expected(2, 3)
    assert await cost({"n": 2}) == expected(2, 20)  # $m unset: the default page
    assert await cost({"n": 2, "m": 3}) == expected(2, 3)
    for n in range(1, 80):  # more page sizes than are remembered: each still costs its own
        assert await cost({"n": n, "m": 1}) == expected(n, 1)


async def test_operations_over_the_maximum_cost_are_refused_before_execution(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    explosive = ("{ orders(first: 100) { nodes { customer { orders(first: 100) { nodes { customer { "
                 "orders(first: 100) { nodes { id } } } } } } } } }")
    response = await client.post("/graphql", json={"query": explosive},
                                 headers={**admin_headers, "Accept": "application/graphql-response+json"})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["details"]["cost"] > error["extensions"]["details"]["max_cost"] == 25_000
    aliased = "{ " + " ".join(f"o{i}: orders(first: 100) {{ nodes {{ items {{ id }} }} }}" for i in range(130)) + " }"
    response = await client.post("/graphql", json={"query": aliased}, headers=admin_headers)
    assert response.json()["errors"][0]["extensions"]["details"]["cost"] > 25_000


async def test_too_deep_or_too_long_documents_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    deep = "{ orders(first: 1) { nodes { " + "customer { orders(first: 1) { nodes { " * 6 + "id" + " } } }" * 6 + " } } }"
    body = (await client.post("/graphql", json={"query": deep}, headers=admin_headers)).json()
    assert body["errors"][0]["extensions"]["details"]["depth"] > 12
    huge = "{ " + " ".join(f"a{i}: __typename" for i in range(6000)) + " }"
    response = await client.post("/graphql", json={"query": huge},
                                 headers={**admin_headers, "Accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert "token" in response.json()["errors"][0]["message"].lower()
