"""The planned executor reads only the columns a query selects, and answers as if it read them all.

Every query here goes through the differential client (tests/graphql/conftest.py), so each answer
is also compared with graphql-core's, whose resolvers read whole rows. The statements are the
planned executor's own (`sql` records the served app's engine, not the reference's).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from stateset_gateway.db import models
from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers import loaders
from stateset_gateway.schema.relations import Derived, declaration_of
from stateset_gateway.schema.schema import build_schema
from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog, per_row_work

# The table behind each object type that declares a derived field.
ROWS_OF: dict[str, type[SQLModel]] = {
    "InventoryLevel": models.InventoryBalance,
    "Order": models.Order,
    "Customer": models.Customer,
    "WebhookDelivery": models.WebhookDelivery,
}


def _selected(statement: str, table: str) -> set[str]:
    """The columns of `table` a SELECT statement names before its FROM."""
    head = statement.split("FROM", 1)[0]
    return set(re.findall(rf"\b{table}\.(\w+)", head))


def _statement_on(statements: list[str], table: str) -> str:
    found = [s for s in per_row_work(statements) if re.search(rf"FROM {table}\b", s)]
    assert len(found) == 1, (table, statements)
    return found[0]


class _Recorder:
    """A row that remembers which attributes were read of it."""

    def __init__(self, row: Any) -> None:
        self._row, self.read = row, set[str]()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._row, name)


def _derived_fields() -> list[tuple[str, str, Derived]]:
    schema = build_schema()._schema
    found = []
    for type_name, graphql_type in schema.type_map.items():
        for field_name, field in (getattr(graphql_type, "fields", None) or {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            declared = declaration_of(definition) if definition is not None else None
            if isinstance(declared, Derived):
                found.append((type_name, field_name, declared))
    return found


async def test_every_derived_field_reads_no_more_than_it_declares(db: Database) -> None:
    """A derived field's `reads` decides which columns are selected for it: one that read an
    undeclared column would fail on the planned executor's rows."""
    await seed(db, SeedSize(customers=3, products=3, orders=6))
    derived = _derived_fields()
    assert {type_name for type_name, _, _ in derived} <= set(ROWS_OF), "add the new type to ROWS_OF"
    for type_name, field_name, declared in derived:
        assert declared.reads is not None, f"{type_name}.{field_name} declares no reads"
        model = ROWS_OF[type_name]
        rows = await loaders.rows(db, select(*loaders.columns(model)).limit(1))
        if not rows:  # no seeded deliveries: the declared attributes must at least be columns
            assert declared.reads <= {c.key for c in loaders.columns(model)}, (type_name, field_name)
            continue
        recorder = _Recorder(rows[0])
        declared.function(recorder)
        assert recorder.read <= declared.reads, (type_name, field_name, recorder.read - declared.reads)


async def test_a_nested_page_selects_only_the_columns_it_reads(gql: GraphQLClient, sql: StatementLog,
                                                              db: Database) -> None:
    await seed(db, SeedSize(customers=10, products=8, orders=20))
    with sql.recording() as statements:
        data = await gql("""{ orders(first: 5) { edges { cursor node { orderNumber total
            customer { email fullName }
            items { quantity product { sku inventoryLevels { available } } } } } } }""")
    assert len(data["orders"]["edges"]) == 5
    assert all(edge["node"]["customer"]["fullName"] for edge in data["orders"]["edges"])
    # The page: what the nodes read, their id and the sort key their cursors are made of; the
    # customers are read in the same statement (joined), of them what `email fullName` read.
    page = _statement_on(statements, "orders")
    assert _selected(page, "orders") == {"id", "order_number", "total", "customer_id", "created_at"}
    assert _selected(page, "joined_customer_id") == {"id", "email", "first_name", "last_name"}
    items = _statement_on(statements, "order_items")
    assert _selected(items, "order_items") == {"id", "order_id", "quantity", "product_id"}
    assert _selected(items, "joined_product_id") == {"id", "sku"}
    assert _selected(_statement_on(statements, "inventory_balances"), "inventory_balances") == {
        "id", "product_id", "on_hand", "reserved"}
    assert len(per_row_work(statements)) == 3


async def test_aliases_reading_other_columns_of_the_same_rows_each_get_theirs(gql: GraphQLClient,
                                                                            db: Database) -> None:
    await seed(db, SeedSize(customers=5, products=5, orders=8))
    data = await gql("""{
        a: orders(first: 3) { nodes { id total } }
        b: orders(first: 3) { nodes { id notes currency shippingAddress { city } } }
        first: customers(first: 2) { nodes { email orders(first: 1) { nodes { total } } } }
        second: customers(first: 2) { nodes { phone orders(first: 1) { nodes { status } } } } }""")
    assert [n["id"] for n in data["a"]["nodes"]] == [n["id"] for n in data["b"]["nodes"]]
    assert all(n["total"] for n in data["a"]["nodes"]) and all(n["currency"] for n in data["b"]["nodes"])
    assert all("city" in n["shippingAddress"] for n in data["b"]["nodes"] if n["shippingAddress"])


async def test_a_level_read_for_different_fields_at_two_places_loads_each(gql: GraphQLClient,
                                                                         db: Database) -> None:
    """The same products loaded for two selections (a row's columns at one place are not another's)."""
    await seed(db, SeedSize(customers=4, products=3, orders=6))
    data = await gql("""{ orders(first: 4) { nodes {
        items { product { sku } again: product { name price } } } } }""")
    for node in data["orders"]["nodes"]:
        for item in node["items"]:
            assert item["product"]["sku"] and item["again"]["name"] and item["again"]["price"]


async def test_walking_every_sort_page_by_page_gives_the_whole_list_once(gql: GraphQLClient, db: Database) -> None:
    """Unfiltered pages run one statement built once per sort (resolvers/pagination.py): walked
    three at a time forwards and backwards, every sort gives each order once, in the order of one
    large page, ties (equal totals) broken by id."""
    await seed(db, SeedSize(customers=4, products=4, orders=14))
    query = """query($sort: OrderSort, $first: Int, $after: String, $last: Int, $before: String) {
        orders(sort: $sort, first: $first, after: $after, last: $last, before: $before) {
            nodes { id total } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    for field in ("CREATED_AT", "UPDATED_AT", "TOTAL", "ORDER_NUMBER"):
        for direction in ("ASC", "DESC"):
            sort = {"field": field, "direction": direction}
            whole = [n["id"] for n in (await gql(query, {"sort": sort, "first": 100}))["orders"]["nodes"]]
            assert len(whole) == 14
            walked, after = [], None
            while True:
                page = (await gql(query, {"sort": sort, "first": 3, "after": after}))["orders"]
                walked += [n["id"] for n in page["nodes"]]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            assert walked == whole, (field, direction)
            last = (await gql(query, {"sort": sort, "last": 3}))["orders"]
            backwards = [n["id"] for n in last["nodes"]]
            before = last["pageInfo"]["startCursor"]
            while last["pageInfo"]["hasPreviousPage"]:
                last = (await gql(query, {"sort": sort, "last": 3, "before": before}))["orders"]
                backwards = [n["id"] for n in last["nodes"]] + backwards
                before = last["pageInfo"]["startCursor"]
            assert backwards == whole, (field, direction)
