"""Cheap-looking expensive queries: a count costs what it runs, and work repeated within one
request (the same root field with the same arguments, under many aliases) is done once."""

from __future__ import annotations

import time

from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog


async def test_totalcount_is_charged_once_per_connection(gql: GraphQLClient) -> None:
    body = (await gql.post("{ orders(first: 5) { totalCount } }")).json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 1
    nested = (await gql.post("{ customers(first: 10) { nodes { orders(first: 3) { totalCount } } } }")).json()
    assert nested["extensions"]["cost"]["requestedQueryCost"] == 1 + 10 * (1 + 1 + 1)


async def test_aliases_of_one_root_field_run_its_queries_once(gql: GraphQLClient, sql: StatementLog) -> None:
    aliased = "{ " + " ".join(f"a{i}: orders(first: 1) {{ totalCount }}" for i in range(300)) + " }"
    await gql.post("{ orders(first: 1) { totalCount } }")  # the caller is authenticated and cached
    with sql.recording() as single:
        await gql.post("{ orders(first: 1) { totalCount } }")
    with sql.recording() as statements:
        body = (await gql.post(aliased)).json()
    assert body["data"] == {f"a{i}": {"totalCount": 0} for i in range(300)}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 300 * 2
    assert len(statements) == len(single)
    counts = [s for s in statements if "count(" in s.lower()]
    assert len(counts) == 1, counts
    different = (await gql.post('{ a: orders(first: 1) { totalCount } b: orders(filter: {search: "x"}) '
                                "{ totalCount } }")).json()
    assert different["data"] == {"a": {"totalCount": 0}, "b": {"totalCount": 0}}


async def test_a_thousand_aliases_of_me_resolve_it_once(gql: GraphQLClient, sql: StatementLog) -> None:
    aliased = "{ " + " ".join(f"m{i}: me {{ __typename permissions }}" for i in range(1000)) + " }"
    await gql.post("{ me { __typename } }")
    with sql.recording() as single:
        await gql.post("{ me { __typename permissions } }")
    started = time.perf_counter()
    with sql.recording() as statements:
        body = (await gql.post(aliased)).json()
    elapsed = time.perf_counter() - started
    assert body["data"]["m999"] == body["data"]["m0"]
    assert len(body["data"]) == 1000
    assert len(statements) == len(single)
    assert elapsed < 2, elapsed
