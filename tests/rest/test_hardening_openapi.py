"""The OpenAPI document says what the API does, and the answers around the routes keep to HTTP:
fields an update refuses as null are not documented nullable, money input has its pattern, a 405
names only the methods the path takes, /metrics is Prometheus text, and HEAD answers like GET."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from stateset_gateway import errors
from stateset_gateway.rest_compat import errors as rest_errors
from stateset_gateway.schema import errors as graphql_errors
from tests.support.rest_api import Api


async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/api/v1/openapi.json")).json()  # type: ignore[no-any-return]


def nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(alt.get("type") == "null" for alt in prop.get("anyOf", []))


async def test_fields_an_update_refuses_as_null_are_not_documented_nullable(api: Api, client: httpx.AsyncClient) -> None:
    schemas = (await spec(client))["components"]["schemas"]
    for model, fields in {"ProductUpdate": ("sku", "name", "price", "currency", "is_active"),
                          "CustomerUpdate": ("email", "first_name", "last_name")}.items():
        props = schemas[model]["properties"]
        for name in fields:
            assert not nullable(props[name]) and "default" not in props[name], (model, name, props[name])
            assert name not in schemas[model].get("required", []), (model, name)
        assert nullable(props["description" if model == "ProductUpdate" else "phone"])  # these do take null
    product = await api.product()
    for name in ("price", "is_active"):
        error = await api.error("PUT", f"/products/{product['id']}", 400, "VALIDATION_ERROR", json={name: None})
        assert list(error["details"]) == [name]


async def test_money_input_is_documented_with_its_pattern(client: httpx.AsyncClient) -> None:
    schemas = (await spec(client))["components"]["schemas"]
    for model in ("ProductCreate", "ProductUpdate"):
        price = schemas[model]["properties"]["price"]
        strings = [alt for alt in price["anyOf"] if alt["type"] == "string"]
        assert strings and strings[0]["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$", price


@pytest.mark.parametrize("action", ["adjust", "reserve", "release"])
async def test_post_only_paths_allow_only_post(api: Api, action: str) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await api.call(method, f"/inventory/{action}")
        assert response.status_code == 405 and response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        assert response.headers["allow"] == "POST", (method, response.headers["allow"])


async def test_allow_still_names_every_route_of_a_parametrised_path(api: Api) -> None:
    order = await api.stocked_order()
    response = await api.call("PATCH", f"/orders/{order['id']}")
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"


async def test_metrics_are_documented_as_prometheus_text(client: httpx.AsyncClient) -> None:
    content = (await spec(client))["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/plain"]
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/health", "/health/version", "/metrics", "/api/v1/products", "/api/v1/orders"])
async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient, admin_headers: dict[str, str],
                                                    path: str) -> None:
    got = await client.get(path, headers=admin_headers)
    head = await client.head(path, headers=admin_headers)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_head_errors_have_no_body_either(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/v1/products")
    assert (response.status_code, response.content) == (401, b"")


@pytest.mark.parametrize("error", [
    errors.VersionConflict(10**30, 1),
    errors.VersionConflict(-(10**30), 1),
    errors.ValidationFailed({"count": [str(2**70)]}),
    errors.DomainError("odd", {"big": 2**64, "set": {"b", "a"}, "nested": {"n": [-(2**63) - 1, 2**63]}}),
])
def test_error_renderers_write_any_details(error: errors.DomainError) -> None:
    _, _, _, rest = rest_errors.render(error, "req-1")
    _, _, _, graphql = graphql_errors.render(error, "req-1", "application/json")
    details = orjson.loads(rest)["error"]["details"]
    assert orjson.loads(graphql)["errors"][0]["extensions"]["details"] == details
    if isinstance(error, errors.VersionConflict):
        assert details == {"expected_version": str(error.details["expected_version"]), "current_version": 1}
    if "big" in details:
        assert details == {"big": str(2**64), "set": ["a", "b"], "nested": {"n": [str(-(2**63) - 1), 2**63]}}
