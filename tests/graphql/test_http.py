"""GraphQL over HTTP as the spec describes it: media types, status codes, GET, GraphiQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_parse_and_validation_errors_answer_400_under_graphql_response_json(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Accept": GRAPHQL_RESPONSE}
    for query in ("{ orders {", "{ orders { nope } }"):
        response = await client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_bad_variables_answer_400_under_graphql_response_json(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "query($n: Int!) { orders(first: $n) { totalCount } }", "variables": {"n": "ten"}},
        headers={**admin_headers, "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_legacy_application_json_gets_200_for_graphql_errors(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post("/graphql", json={"query": "{ orders { nope } }"},
                                 headers={**admin_headers, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_queries_over_get_and_mutations_refused_over_get(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    ok = await client.get("/graphql", params={"query": "{ orders { totalCount } }"}, headers=admin_headers)
    assert ok.status_code == 200
    assert ok.json()["data"] == {"orders": {"totalCount": 0}}
    refused = await client.get(
        "/graphql",
        params={"query": 'mutation { createLocation(input: {code: "X", name: "Y"}) { id } }'},
        headers=admin_headers,
    )
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    listed = await client.get("/graphql", params={"query": "{ locations { code } }"}, headers=admin_headers)
    assert listed.json()["data"] == {"locations": []}


async def test_malformed_requests_answer_400(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    bad_json = await client.post("/graphql", content=b"{not json", headers={**admin_headers,
                                                                             "Content-Type": "application/json"})
    assert bad_json.status_code == 400
    no_query = await client.post("/graphql", json={"variables": {}}, headers=admin_headers)
    assert no_query.status_code == 400
    assert no_query.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    wrong_type = await client.post("/graphql", content=b"query=x", headers={
        **admin_headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status_code == 415


async def test_browser_gets_graphiql_with_a_headers_editor(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    assert "shouldPersistHeaders" in page.text


async def test_operation_name_selects_among_several(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    document = "query A { locations { id } } query B { orders { totalCount } }"
    chosen = await client.post("/graphql", json={"query": document, "operationName": "B"}, headers=admin_headers)
    assert chosen.json()["data"] == {"orders": {"totalCount": 0}}
    ambiguous = await client.post("/graphql", json={"query": document}, headers=admin_headers)
    assert ambiguous.status_code == 400


async def test_unexpected_errors_are_masked_with_the_request_id(
    client: httpx.AsyncClient, admin_headers: dict[str, str], monkeypatch: object
) -> None:
    from stateset_gateway.resolvers import inventory

    async def broken(db: object) -> list[object]:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(inventory, "list_locations", broken)  # type: ignore[attr-defined]
    response = await client.post("/graphql", json={"query": "{ locations { id } }"}, headers=admin_headers)
    error = response.json()["errors"][0]
    assert error["message"] == "An internal error occurred"
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["extensions"]["request_id"] == response.headers["x-request-id"]
    assert "secret" not in response.text


async def test_other_methods_get_the_documented_405_and_metrics_name_the_route(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.put("/graphql", json={"query": "{ __typename }"}, headers=admin_headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    await client.post("/graphql", json={"query": "{ __typename }"})
    metrics = (await client.get("/metrics")).text
    assert 'http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}' in metrics


async def test_nested_relations_need_their_own_read_permission(
    client: httpx.AsyncClient, gql: object, auth_headers: object
) -> None:
    from tests.support import factories as f

    c = await f.customer(gql)  # type: ignore[arg-type]
    p, _ = await f.stocked_product(gql)  # type: ignore[arg-type]
    await f.order(gql, c["id"], [(p["id"], 1)])  # type: ignore[arg-type]
    orders_only = await auth_headers(["orders:read"])  # type: ignore[operator]
    query = "{ orders { nodes { orderNumber customer { email } items { quantity } } } }"
    body = (await client.post("/graphql", json={"query": query}, headers=orders_only)).json()
    assert body["errors"][0]["extensions"]["code"] == "INSUFFICIENT_PERMISSIONS"
    assert body["errors"][0]["extensions"]["required_permission"] == "customers:read"
    assert body["errors"][0]["path"] == ["orders", "nodes", 0, "customer"]
    assert body["data"]["orders"]["nodes"][0] == {"orderNumber": body["data"]["orders"]["nodes"][0]["orderNumber"],
                                                  "customer": None, "items": [{"quantity": 1}]}
    both = await auth_headers(["orders:read", "customers:read"])  # type: ignore[operator]
    body = (await client.post("/graphql", json={"query": query}, headers=both)).json()
    assert "errors" not in body and body["data"]["orders"]["nodes"][0]["customer"]["email"] == c["email"]


async def test_a_body_streamed_in_chunks_is_read_whole(client: httpx.AsyncClient) -> None:
    body = b'{"query": "{ __typename }", "operationName": null}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start:start + 7]

    response = await client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}
