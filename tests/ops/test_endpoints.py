"""Health probes, version, metrics, request ids and the error payload for framework-level errors."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest


async def test_liveness_and_readiness_answer_ok(client: httpx.AsyncClient, backend: str) -> None:
    live = await client.get("/health")
    ready = await client.get("/health/readiness")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_version_names_the_database_kind(client: httpx.AsyncClient, backend: str) -> None:
    body = (await client.get("/health/version")).json()
    assert body["version"] == "0.1.0"
    assert body["database"] == backend
    assert body["python"].startswith("3.")


async def test_unknown_route_answers_documented_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/order")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    assert error["status"] == 404
    assert error["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_answers_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_request_id_is_echoed_when_given(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "req-from-client-1"})
    assert response.headers["x-request-id"] == "req-from-client-1"
    generated = [(await client.get("/health")).headers["x-request-id"] for _ in range(20)]
    assert all(re.fullmatch(r"req-[0-9a-f]{16}", g) for g in generated)  # 64 bits, as they have been
    assert len(set(generated)) == 20


async def test_oversized_body_answers_payload_too_large(client: httpx.AsyncClient) -> None:
    response = await client.post("/health", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_metrics_expose_request_durations(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    text = (await client.get("/metrics")).text
    assert 'http_request_duration_seconds_count{method="GET",route="/health",status="200"}' in text


async def test_unhandled_exception_is_masked_with_request_id(
    app: object, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/v1/_boom", boom)  # type: ignore[attr-defined]
    response = await client.get("/api/v1/_boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.text
    assert error["request_id"] == response.headers["x-request-id"]
    assert any(getattr(r, "request_id", None) == error["request_id"] or error["request_id"] in r.getMessage()
               or r.exc_info for r in caplog.records)


async def test_redis_is_checked_by_readiness_when_configured(
    database_url: str, redis_url: str, db: object
) -> None:
    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    app = create_app(load_settings(database_url=database_url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            body = (await c.get("/health/readiness")).json()
    assert body["checks"] == {"database": "ok", "redis": "ok"}


async def test_unreachable_redis_makes_readiness_fail(database_url: str, db: object) -> None:
    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    app = create_app(load_settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            response = await c.get("/health/readiness")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_unauthenticated_answers_say_how_to_authenticate(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/orders")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_invented_methods_share_one_metric_series(client: httpx.AsyncClient) -> None:
    for method in ("BREW", "WHEN"):
        assert (await client.request(method, "/health")).status_code == 405
    text = (await client.get("/metrics")).text
    assert 'http_request_duration_seconds_count{method="OTHER",route="/health",status="405"} 2.0' in text
    assert "BREW" not in text and "WHEN" not in text


async def test_errors_are_counted_by_code_whichever_transport_answers(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    rest = await client.get(f"/api/v1/orders/{missing}", headers=admin_headers)
    gql = await client.post("/graphql", headers=admin_headers,
                            json={"query": f'{{ order(id: "{missing}") {{ id }} }}'})
    unauthenticated = await client.post("/graphql", json={"query": "{ orders(first: 1) { totalCount } }"})
    assert rest.status_code == 404 and gql.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
    text = (await client.get("/metrics")).text
    assert 'stateset_errors_total{code="NOT_FOUND"} 2.0' in text
    assert 'stateset_errors_total{code="INVALID_TOKEN"} 1.0' in text


async def test_a_client_gone_before_its_body_arrived_is_logged_not_treated_as_a_crash(
    app: Any, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = "/graphql"
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"x-api-key", b"sk_unused")],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    await client.get("/health")  # the app is started
    await app(scope, receive, send)
    assert sent == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = (await client.get("/metrics")).text
    assert 'http_request_duration_seconds_count{method="POST",route="/graphql",status="499"} 1.0' in text


async def _streamed(body: bytes) -> AsyncIterator[bytes]:
    """`body` sent chunked: no Content-Length, in parts of 512 bytes."""
    for start in range(0, len(body), 512):
        yield body[start:start + 512]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/graphql"), ("POST", "/api/v1/customers"),
                                              ("PUT", "/api/v1/orders/00000000-0000-0000-0000-000000000000")])
async def test_a_body_over_the_limit_is_413_however_it_is_framed(
    database_url: str, db: object, framing: str, method: str, path: str
) -> None:
    """The same oversized JSON body, declared or streamed, is 413 PAYLOAD_TOO_LARGE on both transports
    (a body refused half-read is not a parse error)."""
    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    body = b'{"query": "{ __typename }", "padding": "' + b"x" * 4096 + b'"}'
    app = create_app(load_settings(database_url=database_url, server={"max_body_bytes": 1024}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.request(method, path, headers={"Content-Type": "application/json"},
                                            content=body if framing == "content-length" else _streamed(body))
    assert response.status_code == 413, response.text
    if path == "/graphql":
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE" and error["extensions"]["status"] == 413
    else:
        error = response.json()["error"]
        assert (error["code"], error["status"]) == ("PAYLOAD_TOO_LARGE", 413)
    assert "1024" in error["message"]
