"""Generated queries over the whole read API, against seeded data: both executors answer the same.

hypothesis-graphql writes the queries (every Query field, arguments of every kind, nested
selections, aliases); each is sent as one of several API keys, some holding only part of the read
permissions, so refused relations (null and INSUFFICIENT_PERMISSIONS at each path) are exercised
too. The `client` of tests/graphql compares the planned executor's answer with graphql-core's.
The cases are drawn once with a fixed seed and replayed on both databases.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import httpx
import pytest
from graphql import IntValueNode, StringValueNode
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy import text

from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.schema.schema import build_schema
from stateset_gateway.db.demo import SeedSize, seed
from tests.support.graphql_client import DifferentialTransport
from tests.support.statements import StatementLog, per_row_work

EXAMPLES = 500
KEYS = (
    ["admin:*"],
    ["orders:read"],
    ["orders:read", "customers:read"],
    ["customers:read"],
    ["products:read"],
    ["products:read", "inventory:read"],
    ["inventory:read"],
    ["orders:read", "shipments:read", "returns:read"],
)
SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(
        lambda value: StringValueNode(value=value.isoformat())),
    "Decimal": st.decimals(min_value=-10_000, max_value=10_000, places=2).map(
        lambda value: StringValueNode(value=str(value))),
    # Mostly valid page sizes, so most connections answer rows rather than a validation error.
    "Int": st.integers(min_value=-1, max_value=60).map(lambda value: IntValueNode(value=str(value))),
}
TABLES = ("customers", "products", "orders", "order_items", "inventory_locations", "inventory_balances",
          "inventory_reservations", "shipments", "payments")

_generated: dict[tuple[str, ...], list[str]] = {}


def generated_queries(ids: tuple[str, ...]) -> list[str]:
    """EXAMPLES queries, each of one root field, whose ID arguments are mostly ids of seeded rows
    (the seed is deterministic, so both databases hold the same ids and replay the same queries)."""
    if ids in _generated:
        return _generated[ids]
    schema = build_schema()._schema
    assert schema.query_type is not None
    scalars = {**SCALARS, "ID": st.one_of(st.sampled_from(ids), st.just("not-an-id")).map(
        lambda value: StringValueNode(value=value))}
    found = _generated[ids] = []

    # One root field per query: when several fail, which errors graphql-core reports depends on
    # the order its concurrent resolvers happen to finish (the first non-null failure nulls `data`
    # and drops the errors after it), so only single-root answers are deterministic.
    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(query=st.one_of([queries(schema, fields=[name], custom_scalars=scalars, allow_x00=False)
                            for name in schema.query_type.fields]))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


async def seeded_ids(db: Database) -> tuple[str, ...]:
    async with db.reader() as session:
        rows = [(await session.execute(text(f"SELECT id FROM {table}"))).scalars().all() for table in TABLES]
    return tuple(sorted(str(uuid.UUID(str(value))) for found in rows for value in found))


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Several hundred queries in a few seconds: no request rate or cost budget in the way."""
    return load_settings(database_url=database_url, rate_limit="off", graphql={"cost_budget": "off"})


async def test_planned_and_reference_executors_agree_on_generated_queries(
    client: httpx.AsyncClient, differential: DifferentialTransport, auth_headers: Any, db: Database,
    app: Any, reference_app: Any
) -> None:
    await seed(db, SeedSize(customers=6, products=5, orders=24, max_items_per_order=3))
    keys = [await auth_headers(permissions) for permissions in KEYS]
    generated = generated_queries(await seeded_ids(db))
    more_statements = []
    planned_log, reference_log = StatementLog(app.state.db), StatementLog(reference_app.state.db)
    with planned_log.recording() as planned, reference_log.recording() as reference:
        for index, query in enumerate(generated):
            before = len(planned), len(reference)
            await client.post("/graphql", json={"query": query}, headers=keys[index % len(keys)])
            if len(per_row_work(planned[before[0]:])) > len(per_row_work(reference[before[1]:])):
                more_statements.append(query)
    assert len(generated) >= EXAMPLES * 0.9
    assert differential.compared >= len(generated) // 2  # most were executed, not refused before
    assert not more_statements, f"the planned executor ran more SQL statements for {more_statements[:3]}"
