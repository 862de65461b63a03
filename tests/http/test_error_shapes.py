"""Refusals made before a route runs still answer in the documented JSON error shape, with a hint
where the mistake is a common one: a CORS preflight from an origin not configured, a body sent
without `Content-Type: application/json`."""

from __future__ import annotations

import httpx
import pytest

CORS = {"cors_origins": ["http://app.example"], "cors_methods": ["GET", "POST"], "cors_headers": ["X-API-Key"]}


def preflight(origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method, "X-Request-ID": "req-preflight"}
    return {**asked, "Access-Control-Request-Headers": headers} if headers else asked


@pytest.mark.settings(server=CORS)
async def test_a_refused_preflight_answers_the_json_error_naming_what_was_refused(client: httpx.AsyncClient) -> None:
    refused = await client.options("/api/v1/orders", headers=preflight("http://evil.example", "DELETE", "X-Secret"))
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["x-request-id"] == "req-preflight"
    error = refused.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["request_id"] == "req-preflight"
    assert set(error["details"]) == {"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
    assert "cors_origins" in error["details"]["Origin"][0]
    allowed = await client.options("/api/v1/orders", headers=preflight("http://app.example"))
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://app.example"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_json_body_sent_without_its_content_type_says_to_send_it(
    client: httpx.AsyncClient, admin_headers: dict[str, str], content_type: str | None
) -> None:
    headers = {**admin_headers, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post("/api/v1/customers", content=b'{"email": "ada@example.com"}', headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["body"] == ["Send the body as JSON, with 'Content-Type: application/json'"]
