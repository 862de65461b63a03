"""Relations read in their parent's statement (schema/execution/joins.py), as a client sees them: to-one
relations on both databases; to-many ones (an order's items, a product's stock levels) on PostgreSQL,
below a field answering one row.

Every query here goes through the differential client (tests/graphql/conftest.py), so each answer
is also compared with graphql-core's, whose resolvers load every relation through its DataLoader.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient
from tests.support.statements import StatementLog, per_row_work


def _reads(statements: list[str]) -> list[str]:
    return [s for s in per_row_work(statements) if s.lstrip().upper().startswith("SELECT")]


async def _answer(gql: GraphQLClient, sql: StatementLog, query: str,
                  variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The query's data, and the SELECT statements that served it."""
    with sql.recording() as statements:
        data = await gql(query, variables)
    return data, _reads(statements)


async def test_an_inventory_page_with_its_products_and_locations_is_one_statement(
    gql: GraphQLClient, sql: StatementLog, db: Database
) -> None:
    await seed(db, SeedSize(customers=4, products=6, orders=5))
    data, reads = await _answer(gql, sql, "{ inventory(first: 20) { nodes { onHand product { sku name }"
                                          " location { code } } } }")
    nodes = data["inventory"]["nodes"]
    assert len(nodes) > 6  # several locations per product
    assert all(node["product"]["sku"] and node["location"]["code"] for node in nodes)
    assert len(reads) == 1, reads


async def test_an_order_with_its_customer_items_products_and_stock_is_one_statement_on_postgresql(
    gql: GraphQLClient, sql: StatementLog, backend: str
) -> None:
    """On SQLite, which has no arrays, the items are loaded with their products, then the products'
    stock levels: three statements."""
    customer = await f.customer(gql)
    first, _ = await f.stocked_product(gql, 10)
    second, _ = await f.stocked_product(gql, 10)
    order = await f.order(gql, customer["id"], [(first["id"], 1), (second["id"], 2)])
    data, reads = await _answer(gql, sql, "query($id: ID!) { order(id: $id) { orderNumber customer { email }"
                                          " items { quantity product { sku inventoryLevels { available } } } } }",
                                {"id": order["id"]})
    assert data["order"]["customer"]["email"] == customer["email"]
    assert sorted((i["product"]["sku"], i["quantity"]) for i in data["order"]["items"]) == sorted(
        [(first["sku"], 1), (second["sku"], 2)])
    assert all(i["product"]["inventoryLevels"] for i in data["order"]["items"])
    assert re.search(r"FROM orders LEFT OUTER JOIN customers", reads[0])
    if backend == "postgresql":
        assert len(reads) == 1, reads
        assert re.search(r"array\(\(SELECT row\(.*FROM order_items", reads[0], re.S)
        assert re.search(r"array\(\(SELECT row\(.*FROM inventory_balances", reads[0], re.S)
    else:
        assert len(reads) == 3, reads
        assert re.search(r"FROM order_items LEFT OUTER JOIN products", reads[1])
        assert re.search(r"FROM inventory_balances", reads[2])


async def test_a_pages_lists_are_loaded_a_level_at_a_time_whatever_its_size(
    gql: GraphQLClient, sql: StatementLog, db: Database
) -> None:
    """Only a field answering one row reads its lists in its own statement (joins.py `_joinable`):
    a page's items, each customer's latest orders, are a statement per level on both databases."""
    await seed(db, SeedSize(customers=4, products=4, orders=12))
    for size in (3, 10):
        data, reads = await _answer(gql, sql, "query($n: Int) { orders(first: $n) { nodes { orderNumber"
                                              " items { sku product { name } } shipments { status } } } }",
                                    {"n": size})
        assert len(data["orders"]["nodes"]) == size
        assert all(node["items"] for node in data["orders"]["nodes"])
        assert len(reads) == 3 and not any("array(" in s for s in reads), reads
    data, reads = await _answer(gql, sql, "{ customers(first: 4) { nodes { email orders(first: 2) { nodes {"
                                          " orderNumber items { quantity } } } } } }")
    assert any(node["orders"]["nodes"] for node in data["customers"]["nodes"])
    assert len(reads) == 3, reads


async def test_a_relation_read_at_two_places_is_joined_once_with_the_columns_of_both(
    gql: GraphQLClient, sql: StatementLog, db: Database
) -> None:
    await seed(db, SeedSize(customers=4, products=3, orders=6))
    data, reads = await _answer(gql, sql, "{ orders(first: 4) { nodes { items { product { sku }"
                                          " again: product { name price } } } } }")
    items = [item for node in data["orders"]["nodes"] for item in node["items"]]
    assert items and all(i["product"]["sku"] and i["again"]["name"] and i["again"]["price"] for i in items)
    assert len(reads) == 2, reads
    assert reads[1].count("LEFT OUTER JOIN products") == 1
    assert {"sku", "name", "price"} <= set(re.findall(r"\bjoined_product_id\.(\w+)", reads[1]))


async def test_a_caller_without_the_relations_permission_gets_null_and_an_error_at_each_path(
    gql: GraphQLClient, client: Any, auth_headers: Any
) -> None:
    customer = await f.customer(gql)
    product, _ = await f.stocked_product(gql, 10)
    for _ in range(2):
        await f.order(gql, customer["id"], [(product["id"], 1)])
    headers = await auth_headers(["orders:read"])
    body = (await client.post("/graphql", json={"query": "{ orders { nodes { orderNumber customer { email } } } }"},
                              headers=headers)).json()
    nodes = body["data"]["orders"]["nodes"]
    assert len(nodes) == 2 and all(node["orderNumber"] and node["customer"] is None for node in nodes)
    assert sorted(error["path"] for error in body["errors"]) == [
        ["orders", "nodes", 0, "customer"], ["orders", "nodes", 1, "customer"]]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INSUFFICIENT_PERMISSIONS"}


async def test_a_caller_without_a_nested_relations_permission_gets_null_and_an_error_at_each_path(
    gql: GraphQLClient, client: Any, auth_headers: Any
) -> None:
    """An item's product, read inside the order's own statement on PostgreSQL: the items are
    answered, each product is null."""
    customer = await f.customer(gql)
    first, _ = await f.stocked_product(gql, 10)
    second, _ = await f.stocked_product(gql, 10)
    order = await f.order(gql, customer["id"], [(first["id"], 1), (second["id"], 1)])
    headers = await auth_headers(["orders:read"])
    query = "query($id: ID!) { order(id: $id) { items { quantity product { sku inventoryLevels { onHand } } } } }"
    body = (await client.post("/graphql", json={"query": query, "variables": {"id": order["id"]}},
                              headers=headers)).json()
    items = body["data"]["order"]["items"]
    assert [item["quantity"] for item in items] == [1, 1] and all(item["product"] is None for item in items)
    assert sorted(error["path"] for error in body["errors"]) == [
        ["order", "items", 0, "product"], ["order", "items", 1, "product"]]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INSUFFICIENT_PERMISSIONS"}


async def test_a_nested_relation_read_at_two_places_is_read_once_with_the_fields_of_both(
    gql: GraphQLClient, sql: StatementLog, db: Database, backend: str
) -> None:
    await seed(db, SeedSize(customers=4, products=3, orders=6))
    ids = [node["id"] for node in (await gql("{ orders(first: 3) { nodes { id } } }"))["orders"]["nodes"]]
    for ident in ids:
        data, reads = await _answer(gql, sql, "query($id: ID!) { order(id: $id) { items { sku product { sku } }"
                                              " again: items { quantity product { name inventoryLevels { onHand } } }"
                                              " } }", {"id": ident})
        node = data["order"]
        assert [item["sku"] for item in node["items"]] == [item["product"]["sku"] for item in node["items"]]
        assert len(node["again"]) == len(node["items"])
        assert all(item["product"]["name"] and item["product"]["inventoryLevels"] for item in node["again"])
    if backend == "postgresql":
        assert len(reads) == 1, reads
        assert reads[0].count("FROM order_items") == 1 and reads[0].count("FROM inventory_balances") == 1


async def test_rows_read_without_the_join_load_the_relation_by_its_own_statement(
    gql: GraphQLClient, sql: StatementLog
) -> None:
    """A mutation's row is what it wrote, not a statement of the read API: its customer is loaded
    as a relation always was, while its items (a loader's statement) still bring their products."""
    customer = await f.customer(gql)
    product, _ = await f.stocked_product(gql, 10)
    with sql.recording() as statements:
        data = await gql("""mutation($input: CreateOrderInput!) { createOrder(input: $input) {
            customer { email } items { quantity product { sku } } } }""",
                         {"input": {"customerId": customer["id"], "items": [{"productId": product["id"], "quantity": 3}]}})
    created = data["createOrder"]
    assert created["customer"]["email"] == customer["email"]
    assert created["items"] == [{"quantity": 3, "product": {"sku": product["sku"]}}]
    reads = [s for s in _reads(statements) if re.search(r"FROM (customers|order_items)\b", s)]
    assert any(re.search(r"FROM customers\b", s) for s in reads)
    assert any(re.search(r"FROM order_items LEFT OUTER JOIN products", s) for s in reads)


async def test_every_kind_of_statement_reads_its_joins_as_graphql_core_answers_them(
    gql: GraphQLClient, sql: StatementLog, db: Database
) -> None:
    """A page with a filter, a later page, a page read backwards, each customer's latest orders (a
    window), a payment's order and its customer (on PostgreSQL inside the orders' statement, on
    SQLite in the payments' and then the order's own): the differential client checks each answer
    against graphql-core's."""
    await seed(db, SeedSize(customers=5, products=4, orders=16))
    first = await gql("{ orders(first: 3) { pageInfo { endCursor } nodes { customer { email } } } }")
    cursor = first["orders"]["pageInfo"]["endCursor"]
    queries = [
        ("{ orders(first: 5, filter: {status: PENDING}) { nodes { status customer { email firstName } } } }", None),
        ("query($after: String) { orders(first: 3, after: $after) { nodes { orderNumber customer { email } } } }",
         {"after": cursor}),
        ("query($before: String) { orders(last: 2, before: $before) { nodes { customer { lastName } } } }",
         {"before": cursor}),
        ("{ customers(first: 3) { nodes { email orders(first: 2) { nodes { total customer { email } } } } } }", None),
        ("{ orders(first: 8) { nodes { payments { order { orderNumber customer { email } } } } } }", None),
    ]
    for query, variables in queries:
        data, reads = await _answer(gql, sql, query, variables)
        assert any(data.values()), query
        assert any("LEFT OUTER JOIN" in s or "row(" in s for s in reads), (query, reads)
    some = await gql("{ customers(first: 3) { nodes { email orders(first: 2) { nodes { customer { email } } } } } }")
    for node in some["customers"]["nodes"]:
        assert all(order["customer"]["email"] == node["email"] for order in node["orders"]["nodes"])


async def _spoil(db: Database, backend: str, table: str, column: str, key: str, value: Any) -> None:
    """Store a timestamp the driver cannot read back in `table.column` where `key` is `value`: a year
    past Python's on PostgreSQL, text that is no time on SQLite."""
    spoiled = "'20000-01-01T00:00:00+00'::timestamptz" if backend == "postgresql" else "'not a time'"
    async with db.engine.begin() as connection:
        await connection.execute(text(f"UPDATE {table} SET {column} = {spoiled} WHERE {key} = :value"),
                                 {"value": value})


async def test_a_relation_that_cannot_be_read_fails_alone_not_the_rows_it_was_read_with(
    gql: GraphQLClient, db: Database, backend: str
) -> None:
    """Rows read with their relations (a page with each order's customer, a get with its
    shipments, items with their products) are read again without them when that statement fails:
    the rows are answered, and each relation that cannot be read is null with its error at its own
    paths, as graphql-core answers (the differential client compares every answer)."""
    await seed(db, SeedSize(customers=4, products=4, orders=12))
    async with db.engine.connect() as connection:
        shipped = (await connection.execute(text("SELECT order_id FROM shipments"))).scalars().first()
        first = (await connection.execute(text("SELECT id, customer_id FROM orders ORDER BY created_at DESC, id DESC"
                                               " LIMIT 1"))).one()
        product = (await connection.execute(text("SELECT product_id FROM order_items WHERE order_id = :o"),
                                            {"o": first.id})).scalars().first()
    assert shipped is not None and product is not None
    await _spoil(db, backend, "shipments", "delivered_at", "order_id", shipped)
    await _spoil(db, backend, "customers", "created_at", "id", first.customer_id)
    await _spoil(db, backend, "products", "created_at", "id", product)

    body = (await gql.post("query($id: ID!) { order(id: $id) { orderNumber shipments { id deliveredAt } } }",
                           {"id": str(shipped)})).json()
    assert body["data"]["order"]["orderNumber"] and body["data"]["order"]["shipments"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["order", "shipments"], "INTERNAL_ERROR")]

    body = (await gql.post("{ orders(first: 1) { nodes { orderNumber customer { email createdAt }"
                           " items { sku product { sku createdAt } } } } }")).json()
    node = body["data"]["orders"]["nodes"][0]
    assert node["orderNumber"] and node["customer"] is None and node["items"]
    assert any(item["product"] is None for item in node["items"])
    paths = [e["path"] for e in body["errors"]]
    assert ["orders", "nodes", 0, "customer"] in paths
    assert any(path[-1] == "product" for path in paths)


async def test_the_other_gets_read_their_lists_in_their_own_statement_on_postgresql(
    gql: GraphQLClient, sql: StatementLog, backend: str
) -> None:
    """A product (by id or SKU) with its stock levels and their locations, a return with its items
    and their products, an order by its number: one statement each on PostgreSQL, where on SQLite
    the lists are loaded by their own.
    A to-one row's own relations are read with it only inside a list (joins.py): a shipment's
    order comes with the shipment, that order's customer by a statement of its own."""
    customer = await f.customer(gql)
    product, _ = await f.stocked_product(gql, 10)
    order = await f.order(gql, customer["id"], [(product["id"], 2)])
    await f.pay(gql, order["id"])
    shipment = (await gql("mutation($i: CreateShipmentInput!) { createShipment(input: $i) { id } }",
                          {"i": {"orderId": order["id"], "carrier": "UPS", "trackingNumber": "1Z-JOINED"}}))
    shipment_id = shipment["createShipment"]["id"]
    for mutation in ("markShipped", "markDelivered"):
        await gql(f"mutation($id: ID!) {{ {mutation}(id: $id) {{ status }} }}", {"id": shipment_id})
    item = (await gql("query($id: ID!) { order(id: $id) { items { id } } }", {"id": order["id"]}))["order"]["items"][0]
    returned = await gql("mutation($i: CreateReturnInput!) { createReturn(input: $i) { id } }",
                         {"i": {"orderId": order["id"], "items": [{"orderItemId": item["id"], "quantity": 1}]}})
    gets = [
        ("query($id: ID!) { product(id: $id) { sku inventoryLevels { onHand location { code } } } }",
         product["id"], 1, 2),
        ("query($id: ID!) { return(id: $id) { status items { quantity product { sku } } } }",
         returned["createReturn"]["id"], 1, 2),
        ("query($id: ID!) { shipment(id: $id) { status order { orderNumber customer { email } } } }",
         shipment_id, 2, 2),
        ("query($n: String!) { orderByNumber(orderNumber: $n) { status items { sku product { name } } } }",
         order["orderNumber"], 1, 2),
        ('{ shipmentByTrackingNumber(trackingNumber: "1Z-JOINED") { status order { orderNumber } } }', None, 1, 1),
        ("query($sku: String) { product(sku: $sku) { name inventoryLevels { onHand } } }", product["sku"], 1, 2),
    ]
    for query, value, on_postgresql, on_sqlite in gets:
        name = "n" if "$n" in query else "sku" if "$sku" in query else "id"
        data, reads = await _answer(gql, sql, query, {name: value} if value is not None else None)
        assert all(data.values()), (query, data)
        assert len(reads) == (on_postgresql if backend == "postgresql" else on_sqlite), (query, reads)


async def test_a_get_and_a_page_reading_the_same_lists_cost_no_more_statements_than_before(
    gql: GraphQLClient, sql: StatementLog, db: Database, backend: str
) -> None:
    """Four on both databases: on PostgreSQL the get's lists come with it and the page's a
    statement per level; on SQLite, with no lists read inside a statement, the get's and the page's
    lists are loaded together, one statement per level, as before lists were ever joined."""
    await seed(db, SeedSize(customers=4, products=4, orders=8))
    ident = (await gql("{ orders(first: 1) { nodes { id } } }"))["orders"]["nodes"][0]["id"]
    lists = "items { sku product { name inventoryLevels { onHand } } }"
    data, reads = await _answer(gql, sql, f"query($id: ID!) {{ one: order(id: $id) {{ {lists} }}"
                                          f" orders(first: 3) {{ nodes {{ {lists} }} }} }}", {"id": ident})
    assert data["one"]["items"] and all(node["items"] for node in data["orders"]["nodes"])
    assert len(reads) == 4, reads
