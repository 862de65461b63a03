"""Cheap-looking expensive queries: a count costs what it runs, and work repeated within one
request (the same root field with the same arguments, under many aliases) is done once."""

from __future__ import annotations

from typing import Any

from stateset_gateway.app import create_app
from stateset_gateway.schema.schema import build_schema
from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog, per_row_work


async def test_totalcount_is_charged_once_per_connection(gql: GraphQLClient) -> None:
    body = (await gql.post("{ orders(first: 5) { totalCount } }")).json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 1
    nested = (await gql.post("{ customers(first: 10) { nodes { orders(first: 3) { totalCount } } } }")).json()
    assert nested["extensions"]["cost"]["requestedQueryCost"] == 1 + 10 * (1 + 1 + 1)


async def test_aliases_of_one_root_field_run_its_queries_once(gql: GraphQLClient, sql: StatementLog) -> None:
    aliased = "{ " + " ".join(f"a{i}: orders(first: 1) {{ totalCount }}" for i in range(250)) + " }"  # < max_tokens
    await gql.post("{ orders(first: 1) { totalCount } }")  # the caller is authenticated and cached
    with sql.recording() as single:
        await gql.post("{ orders(first: 1) { totalCount } }")
    with sql.recording() as statements:
        body = (await gql.post(aliased)).json()
    assert body["data"] == {f"a{i}": {"totalCount": 0} for i in range(250)}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 250 * 2
    assert len(per_row_work(statements)) == len(per_row_work(single))
    assert len([s for s in statements if "api_keys" in s]) <= 1  # the key is verified once, if its cache entry aged
    counts = [s for s in statements if "count(" in s.lower()]
    assert len(counts) == 1, counts
    different = (await gql.post('{ a: orders(first: 1) { totalCount } b: orders(filter: {search: "x"}) '
                                "{ totalCount } }")).json()
    assert different["data"] == {"a": {"totalCount": 0}, "b": {"totalCount": 0}}


async def test_hundreds_of_aliases_of_me_resolve_it_once(gql: GraphQLClient, sql: StatementLog) -> None:
    aliased = "{ " + " ".join(f"m{i}: me {{ __typename permissions }}" for i in range(400)) + " }"  # < max_tokens
    await gql.post("{ me { __typename } }")
    with sql.recording() as single:
        await gql.post("{ me { __typename permissions } }")
    with sql.recording() as statements:
        body = (await gql.post(aliased)).json()
    assert body["data"]["m399"] == body["data"]["m0"]
    assert len(body["data"]) == 400
    assert len(per_row_work(statements)) == len(per_row_work(single))
    assert len([s for s in statements if "api_keys" in s]) <= 1  # the key is verified once, if its cache entry aged


def test_building_another_app_does_not_wrap_the_shared_schema_again(settings: Any) -> None:
    """Every app in a process shares the schema: a second one must not memoize its fields again (a
    wrapper per app built grew each resolution by a call, until a long test run hit the recursion
    limit and answered INTERNAL_ERROR)."""
    create_app(settings)
    before = {name: field.resolve for name, field in build_schema()._schema.query_type.fields.items()}
    create_app(settings)
    after = {name: field.resolve for name, field in build_schema()._schema.query_type.fields.items()}
    assert after == before
