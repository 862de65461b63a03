"""Customers, products and inventory through GraphQL: CRUD, uniqueness, filters, cursor pages."""

from __future__ import annotations

from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient


async def test_customer_crud_and_duplicate_email(gql: GraphQLClient) -> None:
    c = await f.customer(gql, "Ada@Example.com")
    assert c["email"] == "ada@example.com"
    err = await gql.error('mutation { createCustomer(input: {email: "ada@example.com", firstName: "A", lastName: "L"}) { id } }')
    assert err["extensions"]["code"] == "DUPLICATE_ENTRY"
    assert err["extensions"]["status"] == 409
    assert err["extensions"]["details"] == {"field": "email", "value": "ada@example.com"}
    updated = await gql('mutation($id: ID!) { updateCustomer(id: $id, input: {phone: "+1555"}) { phone version } }',
                        {"id": c["id"]})
    assert updated["updateCustomer"] == {"phone": "+1555", "version": 2}
    assert (await gql("mutation($id: ID!) { deleteCustomer(id: $id) }", {"id": c["id"]}))["deleteCustomer"] is True
    assert (await gql.post("query($id: ID!) { customer(id: $id) { id } }", {"id": c["id"]})).json()["data"] == {
        "customer": None}


async def test_customer_validation_details(gql: GraphQLClient) -> None:
    err = await gql.error('mutation { createCustomer(input: {email: "not-an-email", firstName: "", lastName: "L"}) { id } }')
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert set(err["extensions"]["details"]) == {"email", "first_name"}


async def test_customer_with_orders_and_addresses(gql: GraphQLClient) -> None:
    data = await gql('mutation { createCustomer(input: {email: "a@b.co", firstName: "A", lastName: "B", addresses: '
                     '[{line1: "1 Main", city: "Austin", postalCode: "78701", country: "us", isDefault: true}]}) { id } }')
    cid = data["createCustomer"]["id"]
    p, _ = await f.stocked_product(gql)
    orders = [await f.order(gql, cid, [(p["id"], 1)]) for _ in range(3)]
    view = await gql("query($id: ID!) { customer(id: $id) { fullName orderCount addresses { country isDefault } "
                     "orders(first: 2) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }", {"id": cid})
    customer = view["customer"]
    assert customer["fullName"] == "A B" and customer["orderCount"] == 3
    assert customer["addresses"] == [{"country": "US", "isDefault": True}]
    assert [n["id"] for n in customer["orders"]["nodes"]] == [orders[2]["id"], orders[1]["id"]]
    assert customer["orders"]["pageInfo"]["hasNextPage"] is True
    rest = await gql("query($id: ID!, $after: String) { customer(id: $id) { orders(first: 2, after: $after) { nodes { id } "
                     "pageInfo { hasNextPage } } } }", {"id": cid, "after": customer["orders"]["pageInfo"]["endCursor"]})
    assert rest["customer"]["orders"] == {"nodes": [{"id": orders[0]["id"]}], "pageInfo": {"hasNextPage": False}}
    err = await gql.error("mutation($id: ID!) { deleteCustomer(id: $id) }", {"id": cid})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"


async def test_customers_filter_and_cursor_pagination_both_ways(gql: GraphQLClient) -> None:
    made = [await f.customer(gql) for _ in range(5)]
    q = ("query($first: Int, $after: String, $last: Int, $before: String) { customers(first: $first, after: $after, "
         "last: $last, before: $before) { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")
    first = (await gql(q, {"first": 2}))["customers"]
    assert first["totalCount"] == 5
    assert [n["id"] for n in first["nodes"]] == [made[4]["id"], made[3]["id"]]
    second = (await gql(q, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["customers"]
    assert [n["id"] for n in second["nodes"]] == [made[2]["id"], made[1]["id"]]
    assert second["pageInfo"]["hasPreviousPage"] and second["pageInfo"]["hasNextPage"]
    back = (await gql(q, {"last": 2, "before": second["pageInfo"]["startCursor"]}))["customers"]
    assert [n["id"] for n in back["nodes"]] == [made[4]["id"], made[3]["id"]]
    filtered = await gql('query($e: String) { customers(filter: {email: $e}) { nodes { id } } }', {"e": made[1]["email"]})
    assert filtered["customers"]["nodes"] == [{"id": made[1]["id"]}]
    err = await gql.error("{ customers(first: 251) { totalCount } }")
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    err = await gql.error('{ customers(after: "garbage") { totalCount } }')
    assert err["extensions"]["details"] == {"after": ["Invalid cursor"]}


async def test_product_crud_by_sku_and_duplicate_sku(gql: GraphQLClient) -> None:
    p = await f.product(gql, "149.99", sku="TEE-1")
    assert p["price"] == "149.99"
    err = await gql.error('mutation { createProduct(input: {sku: "TEE-1", name: "Dup", price: "1"}) { id } }')
    assert err["extensions"]["code"] == "DUPLICATE_ENTRY"
    assert err["extensions"]["details"] == {"field": "sku", "value": "TEE-1"}
    by_sku = await gql('{ product(sku: "TEE-1") { id name } }')
    assert by_sku["product"]["id"] == p["id"]
    updated = await gql('mutation($id: ID!) { updateProduct(id: $id, input: {price: "120.50", expectedVersion: 1}) '
                        '{ price version } }', {"id": p["id"]})
    assert updated["updateProduct"] == {"price": "120.50", "version": 2}
    stale = await gql.error('mutation($id: ID!) { updateProduct(id: $id, input: {price: "1", expectedVersion: 1}) { id } }',
                            {"id": p["id"]})
    assert stale["extensions"]["code"] == "VERSION_CONFLICT"
    err = await gql.error('mutation { createProduct(input: {sku: "NEG", name: "Neg", price: "-1"}) { id } }')
    assert "price" in err["extensions"]["details"]
    products = await gql('{ products(filter: {search: "tee"}) { totalCount nodes { sku } } }')
    assert products["products"]["nodes"] == [{"sku": "TEE-1"}]
    assert (await gql("mutation($id: ID!) { deleteProduct(id: $id) }", {"id": p["id"]}))["deleteProduct"] is True
    assert (await gql.post('{ product(sku: "TEE-1") { id } }')).json()["data"] == {"product": None}


async def test_product_takes_exactly_one_of_id_or_sku(gql: GraphQLClient) -> None:
    p = await f.product(gql, sku="ONE-1")
    for query, variables in (("{ product { id } }", {}),
                             ('query($id: ID!) { product(id: $id, sku: "ONE-1") { id } }', {"id": p["id"]})):
        err = await gql.error(query, variables)
        assert (err["extensions"]["code"], err["extensions"]["status"]) == ("VALIDATION_ERROR", 400)
        assert err["extensions"]["details"] == {"id": ["Pass exactly one of id or sku"]}
    by_id = await gql("query($id: ID!) { product(id: $id) { sku } }", {"id": p["id"]})
    assert by_id["product"] == {"sku": "ONE-1"}
    missing = await gql.error('{ product(sku: "NOPE") { id } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_product_with_orders_is_archived_not_erased(gql: GraphQLClient) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql)
    await f.order(gql, c["id"], [(p["id"], 1)])
    await gql("mutation($id: ID!) { deleteProduct(id: $id) }", {"id": p["id"]})
    kept = await gql("query($id: ID!) { product(id: $id) { isActive } }", {"id": p["id"]})
    assert kept["product"] == {"isActive": False}
    err = await gql.error("mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                          {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 1}]}})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"


async def test_inventory_levels_low_stock_reservations(gql: GraphQLClient) -> None:
    p, loc = await f.stocked_product(gql, 12)
    q = "query($low: Boolean) { inventory(lowStock: $low) { totalCount nodes { available lowStock product { id } location { code } } } }"
    assert (await gql(q, {"low": True}))["inventory"]["totalCount"] == 0
    held = await gql('mutation($p: ID!) { reserveInventory(input: {productId: $p, quantity: 5, reference: "marketplace"}) '
                     '{ id status quantity location { id } } }', {"p": p["id"]})
    reservation = held["reserveInventory"]
    assert reservation["status"] == "ACTIVE" and reservation["location"]["id"] == loc["id"]
    low = (await gql(q, {"low": True}))["inventory"]
    assert low["nodes"] == [{"available": 7, "lowStock": True, "product": {"id": p["id"]}, "location": {"code": loc["code"]}}]
    released = await gql("mutation($id: ID!) { releaseInventory(reservationId: $id) { status } }", {"id": reservation["id"]})
    assert released["releaseInventory"]["status"] == "RELEASED"
    err = await gql.error("mutation($id: ID!) { releaseInventory(reservationId: $id) { status } }", {"id": reservation["id"]})
    assert err["extensions"]["code"] == "INVALID_STATUS_TRANSITION"
    err = await gql.error("mutation($p: ID!, $l: ID!) { adjustInventory(input: {productId: $p, locationId: $l, delta: -13}) { id } }",
                          {"p": p["id"], "l": loc["id"]})
    assert err["extensions"]["code"] == "INSUFFICIENT_INVENTORY"
    reservations = await gql("query($p: ID!) { reservations(productId: $p) { nodes { status } } }", {"p": p["id"]})
    assert reservations["reservations"]["nodes"] == [{"status": "RELEASED"}]
    total = await gql("query($p: ID!) { product(id: $p) { totalAvailable } }", {"p": p["id"]})
    assert total["product"]["totalAvailable"] == 12


async def test_nul_characters_are_refused_alike_on_every_database(gql: GraphQLClient) -> None:
    err = await gql.error('mutation { createCustomer(input: {email: "nul@example.com", firstName: "A\\u0000B", '
                          'lastName: "L"}) { id } }')
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert err["extensions"]["details"] == {"first_name": ["Must not contain NUL characters"]}


async def test_forged_or_foreign_cursors_are_validation_errors(gql: GraphQLClient) -> None:
    import base64

    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5)
    await f.order(gql, c["id"], [(p["id"], 1)])
    forged = base64.urlsafe_b64encode(b'["zzz", "00000000-0000-0000-0000-000000000000"]').decode().rstrip("=")
    err = await gql.error("query($a: String) { orders(after: $a) { totalCount } }", {"a": forged})
    assert err["extensions"]["details"] == {"after": ["Invalid cursor"]}
    by_total = await gql("{ orders(sort: {field: TOTAL}) { pageInfo { endCursor } } }")
    err = await gql.error("query($a: String) { orders(after: $a) { totalCount } }",
                          {"a": by_total["orders"]["pageInfo"]["endCursor"]})
    assert err["extensions"]["details"] == {"after": ["Invalid cursor"]}
