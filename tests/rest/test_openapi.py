"""The OpenAPI document of /api/v1: every route documents its success and error responses (the
schemathesis run over it is tests/rest/test_fuzz_openapi.py)."""

from __future__ import annotations

import re

import httpx

MINE = r"^/api/v1/(customers|products|inventory|orders|returns|shipments)"


async def test_document_is_openapi_31_and_every_route_documents_its_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    operations = [(path, method, op) for path, item in spec["paths"].items() if re.match(MINE, path)
                  for method, op in item.items()]
    assert len(operations) >= 40
    for path, method, op in operations:
        codes = set(op["responses"])
        success = {"200", "201", "204"} & codes
        assert len(success) == 1, (method, path, codes)
        assert {"400", "401", "403", "default"} <= codes, (method, path)
        assert "422" not in codes or "HTTPValidationError" not in str(op["responses"]["422"]), (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method == "post" and path.count("/") == 3 and "inventory" not in path:
            assert success == {"201"}, path  # POST /api/v1/<resources> creates
        if method == "delete":
            assert success == {"204"}, path
        assert op.get("security"), (method, path)  # Swagger UI's "Authorize" applies


async def test_money_times_and_ids_are_documented_as_strings(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    order = schemas["OrderOut"]["properties"]
    assert order["total"]["type"] == "string" and order["total"]["pattern"]
    assert order["created_at"] == {**order["created_at"], "type": "string", "format": "date-time"}
    assert order["id"]["format"] == "uuid"
    assert schemas["ProductOut"]["properties"]["price"]["type"] == "string"
    assert set(schemas["Page_OrderOut_"]["properties"]) == {"items", "total", "page", "limit", "total_pages"}

