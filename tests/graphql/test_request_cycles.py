"""A request leaves no reference cycles behind: what it allocated is freed when it ends, without the
cyclic collector (which, when requests leave cycles, runs often and costs each request its share).

Requests go straight to the ASGI app, without an HTTP client, so that only the gateway's own objects
are counted. Cycles made once (plans, prepared documents, pooled connections) are made by the warm-up.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from stateset_gateway.app import settle_collector
from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database

NESTED = """query($n: Int!) { orders(first: $n) { totalCount edges { cursor node {
  id orderNumber status total createdAt
  customer { email }
  items { quantity unitPrice product { sku inventoryLevels { available } } }
} } pageInfo { hasNextPage endCursor } } }"""
CUSTOMERS = """{ customers(first: 5) { nodes { email orders(first: 3) { totalCount nodes {
  orderNumber items { sku } } } } } }"""
ONE = "query($id: ID!) { order(id: $id) { orderNumber customer { email } items { sku } } }"

REQUESTS = 300



@pytest.fixture
def settings(database_url: str) -> Settings:
    """Hundreds of requests from one key in a few seconds: no rate limit, no cost budget."""
    return load_settings(database_url=database_url, rate_limit="off", graphql={"cost_budget": "off"})


async def _post(app: Any, headers: Mapping[str, str], query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One POST /graphql through the app's ASGI interface; the decoded body."""
    body = orjson.dumps({"query": query, "variables": variables})
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver"),
                    *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return orjson.loads(b"".join(chunks))  # type: ignore[no-any-return]


async def test_nested_queries_leave_no_reference_cycles(app: Any, db: Database,
                                                        admin_headers: dict[str, str]) -> None:
    await seed(db, SeedSize(customers=10, products=8, orders=40))
    first = await _post(app, admin_headers, NESTED, {"n": 20})
    order_ids = [edge["node"]["id"] for edge in first["data"]["orders"]["edges"]]
    requests = [(NESTED, {"n": 20}), (CUSTOMERS, {}), *((ONE, {"id": order_id}) for order_id in order_ids[:3])]
    for query, variables in requests * 4:  # warm: plans, documents, the pool
        answer = await _post(app, admin_headers, query, variables)
        assert "errors" not in answer, answer

    gc.collect()
    gc.disable()
    try:
        answers = [await _post(app, admin_headers, *requests[i % len(requests)]) for i in range(REQUESTS)]
        found = gc.collect()
    finally:
        gc.enable()

    assert all("errors" not in answer and answer["data"] for answer in answers)
    assert len(answers[0]["data"]["orders"]["edges"]) == 20
    assert answers[1]["data"]["customers"]["nodes"][0]["orders"]["nodes"]
    # A request that left one cycle behind would leave REQUESTS times a few objects at least.
    assert found < REQUESTS // 10, f"{found} objects in cycles after {REQUESTS} requests"


async def test_failing_queries_leave_no_reference_cycles(app: Any, db: Database,
                                                         admin_headers: dict[str, str]) -> None:
    """An error (here NOT_FOUND for an order that does not exist) is kept as data, not with the
    traceback that would tie the request's frames into a cycle."""
    missing = "00000000-0000-4000-8000-000000000000"
    for _ in range(10):
        answer = await _post(app, admin_headers, ONE, {"id": missing})
        assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND", answer

    gc.collect()
    gc.disable()
    try:
        codes = [(await _post(app, admin_headers, ONE, {"id": missing}))["errors"][0]["extensions"]["code"]
                 for _ in range(REQUESTS)]
        found = gc.collect()
    finally:
        gc.enable()

    assert codes == ["NOT_FOUND"] * REQUESTS
    assert found < REQUESTS // 10, f"{found} objects in cycles after {REQUESTS} failing requests"


async def test_a_served_process_runs_no_collection_inside_a_nested_page(app: Any, db: Database,
                                                                       admin_headers: dict[str, str]) -> None:
    """Once a served process is up (`settle_collector`, as `serve` runs it), a nested page's live
    objects are freed by reference count before the collector would run: at CPython's own threshold
    it ran several times inside each of these pages."""
    await seed(db, SeedSize(customers=10, products=8, orders=40))
    for _ in range(4):  # warm: plans, documents, the pool
        assert "errors" not in await _post(app, admin_headers, NESTED, {"n": 40})
    thresholds = gc.get_threshold()
    collections: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    settle_collector()
    gc.callbacks.append(count)
    try:
        answers = [await _post(app, admin_headers, NESTED, {"n": 40}) for _ in range(10)]
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
        gc.set_threshold(*thresholds)

    assert all(len(answer["data"]["orders"]["edges"]) == 40 for answer in answers)
    assert collections == [], f"{len(collections)} collections in 10 nested pages"
