"""A get nested as deep as `[graphql] max_depth` allows (up to 100): its relations are read in its own
statement for the first levels only (schema/execution/joins.py `NESTED_LEVELS`), the rest by
statements of their own, and the answer is graphql-core's (the differential client compares)."""

from __future__ import annotations

import pytest

from stateset_gateway.config import Settings, load_settings
from stateset_gateway.schema.execution.joins import NESTED_LEVELS
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog, per_row_work


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, graphql={"max_depth": 100, "max_cost": 1_000_000})


async def test_a_get_nested_past_the_levels_read_in_its_statement_is_answered_whole(
    gql: GraphQLClient, sql: StatementLog, backend: str
) -> None:
    customer = await f.customer(gql)
    product, _ = await f.stocked_product(gql, 10)
    order = await f.order(gql, customer["id"], [(product["id"], 1)])
    payment = await f.pay(gql, order["id"])
    cycles = 20  # an order's payment's order ..., 41 levels deep
    selection = "id orderNumber"
    for _ in range(cycles):
        selection = f"id payments {{ id status order {{ {selection} }} }}"
    with sql.recording() as statements:
        data = await gql(f"query($id: ID!) {{ order(id: $id) {{ {selection} }} }}", {"id": order["id"]})
    level, depth = data["order"], 0
    while "payments" in level:
        assert [p["id"] for p in level["payments"]] == [payment["id"]]
        level, depth = level["payments"][0]["order"], depth + 1
    assert depth == cycles and level == {"id": order["id"], "orderNumber": order["orderNumber"]}
    reads = [s for s in per_row_work(statements) if s.lstrip().upper().startswith("SELECT")]
    if backend == "postgresql":  # NESTED_LEVELS levels (payments, then their order) per statement
        assert 1 < len(reads) <= 2 * cycles // (NESTED_LEVELS // 2) + 1, reads
