"""Deliveries to a real HTTP receiver on loopback: signed as the guide verifies, retried with the same
delivery id, nothing lost while the receiver is down, logs and retry as the guide shows them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.webhooks.dispatcher import Dispatcher
from tests.support.rest_api import Api
from tests.webhooks.conftest import deliveries, dispatcher_running, eventually, fast_settings
from tests.webhooks.receiver import Received, Receiver


def guide_verify(payload: bytes, signature: str, secret: str) -> bool:
    """TROUBLESHOOTING.md's verifyWebhookSignature, in Python: hex HMAC-SHA256 of the raw body."""
    computed = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, computed)


def standard_webhooks_verify(request: Received, secret: str) -> bool:
    """What the Standard Webhooks libraries check: v1,<base64 HMAC of id.timestamp.body>."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    h = request.headers
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", candidate) for candidate in h["webhook-signature"].split())


async def _status_is(db: Database, status: str) -> bool:
    found = await deliveries(db)
    return len(found) == 1 and found[0].status == status


async def subscribe(api: Api, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    return await api.ok("POST", "/webhooks", 201, json={"url": receiver.url, "event_types": events or ["*"]})


async def test_every_delivery_verifies_with_the_guide_algorithm_and_a_tampered_body_does_not(
    api: Api, receiver: Receiver, dispatching: Any
) -> None:
    hook = await subscribe(api, receiver, ["order.*", "inventory.updated"])
    order = await api.stocked_order(quantity=2)
    await receiver.wait_for(lambda: len(receiver.answered()) >= 3)  # stock, order.created, its inventory.updated
    for request in receiver.requests:
        h = request.headers
        assert guide_verify(request.body, h["x-stateset-signature"], hook["secret"])
        assert standard_webhooks_verify(request, hook["secret"])
        assert not guide_verify(request.body.replace(b"}", b" }", 1), h["x-stateset-signature"], hook["secret"])
        assert not guide_verify(request.body, h["x-stateset-signature"], "whsec_someone-else")
        event = orjson.loads(request.body)
        assert set(event) == {"id", "type", "created_at", "data"} and event["id"].startswith("evt_")
        assert h["x-stateset-event"] == event["type"] and h["content-type"] == "application/json"
        assert h["webhook-id"] == h["x-stateset-delivery-id"] and h["webhook-timestamp"] == h["x-stateset-timestamp"]
    created = [orjson.loads(r.body) for r in receiver.requests if r.headers["x-stateset-event"] == "order.created"]
    assert [e["data"]["id"] for e in created] == [order["id"]]
    assert created[0]["data"]["version"] == order["version"]


async def test_a_receiver_answering_500_three_times_gets_it_on_the_fourth_attempt_with_the_same_id(
    api: Api, receiver: Receiver, dispatching: Any, db: Database
) -> None:
    receiver.respond = lambda _r: 500 if len(receiver.requests) < 3 else 200
    hook = await subscribe(api, receiver, ["order.created"])
    await api.stocked_order()
    await receiver.wait_for(lambda: bool(receiver.answered(200)))
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200]
    assert len({r.delivery_id for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1  # the same event, byte for byte
    assert all(guide_verify(r.body, r.headers["x-stateset-signature"], hook["secret"]) for r in receiver.requests)
    await eventually(lambda: _status_is(db, "delivered"))  # recorded just after the receiver answered
    (delivery,) = await deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 200)
    assert str(delivery.id) == receiver.requests[0].delivery_id


async def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_up(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database
) -> None:
    receiver.stop()  # down: connections to its port are refused
    await subscribe(api, receiver, ["order.created"])
    customer = await api.customer()
    product = await api.product()
    await api.stock(product["id"], 100)

    async def all_failed_twice() -> bool:
        found = await deliveries(db)
        return len(found) == 8 and all(d.attempts >= 2 for d in found)

    async with dispatcher_running(fast_settings(settings, max_attempts=10_000)):
        orders = [await api.order(customer["id"], product["id"]) for _ in range(8)]
        await eventually(all_failed_twice)
        pending = await deliveries(db)
        assert all(d.status == "pending" and d.last_error.startswith("ConnectError") for d in pending)
        receiver.start()  # up again, on the same port
        await receiver.wait_for(lambda: len({r.delivery_id for r in receiver.answered()}) == 8)
    ids = Counter(r.delivery_id for r in receiver.answered())
    assert set(ids) == {str(d.id) for d in pending} and set(ids.values()) == {1}
    assert {orjson.loads(r.body)["data"]["id"] for r in receiver.answered()} == {o["id"] for o in orders}


async def test_logs_list_deliveries_and_retry_puts_one_back_with_its_id(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database
) -> None:
    receiver.respond = lambda _r: 500
    hook = await subscribe(api, receiver, ["order.created"])
    other = await api.ok("POST", "/webhooks", 201, json={"url": receiver.url + "/other", "event_types": ["shipment.*"]})
    async with dispatcher_running(fast_settings(settings, max_attempts=2)):
        await api.stocked_order()
        await receiver.wait_for(lambda: len(receiver.requests) == 2)
        await eventually(lambda: _status_is(db, "failed"))
        logs = await api.ok("GET", "/admin/webhooks/logs")
        assert logs["total"] == 1
        (entry,) = logs["items"]
        assert entry["status"] == "failed" and entry["attempts"] == 2 and entry["last_status_code"] == 500
        assert entry["last_error"] == "HTTP 500" and entry["url"] == receiver.url
        assert entry["event_type"] == "order.created" and entry["event_id"].startswith("evt_")
        assert entry["response_time_ms"] is not None and entry["next_attempt_at"] is None
        assert (await api.ok("GET", "/admin/webhooks/logs", params={"webhook_id": other["id"]}))["total"] == 0
        assert (await api.ok("GET", "/admin/webhooks/logs", params={"event_type": "order.created",
                                                                    "status": "failed"}))["total"] == 1
        assert (await api.ok("GET", "/admin/webhooks/logs", params={"status": "delivered"}))["total"] == 0
        assert (await api.ok("GET", "/admin/webhooks/logs", params={"from": "2999-01-01T00:00:00Z"}))["total"] == 0
        await api.error("GET", "/admin/webhooks/logs", 400, "VALIDATION_ERROR", params={"status": "lost"})

        receiver.respond = lambda _r: 200
        retried = await api.ok("POST", f"/admin/webhooks/{entry['id']}/retry", 202)
        assert retried["id"] == entry["id"] and retried["status"] == "pending"
        await eventually(lambda: _status_is(db, "delivered"))
    assert receiver.answered(200)[0].delivery_id == entry["id"]
    assert guide_verify(receiver.requests[-1].body, receiver.requests[-1].headers["x-stateset-signature"],
                        hook["secret"])
    (done,) = await deliveries(db)
    assert (done.status, done.attempts) == ("delivered", 3)
    await api.error("POST", f"/admin/webhooks/{other['id']}/retry", 404, "NOT_FOUND")


async def test_the_test_route_sends_a_ping_to_that_endpoint_only(
    api: Api, receiver: Receiver, dispatching: Any
) -> None:
    hook = await subscribe(api, receiver, ["order.created"])
    await api.ok("POST", "/webhooks", 201, json={"url": receiver.url + "/second"})
    queued = await api.ok("POST", f"/webhooks/{hook['id']}/test", 202)
    assert queued["event_type"] == "ping" and queued["status"] == "pending"
    await receiver.wait_for(lambda: bool(receiver.answered()))
    (ping,) = receiver.requests
    assert ping.path == "/hooks" and ping.delivery_id == queued["id"]
    assert orjson.loads(ping.body)["type"] == "ping"
    assert guide_verify(ping.body, ping.headers["x-stateset-signature"], hook["secret"])


async def test_private_targets_are_refused_again_at_delivery(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database
) -> None:
    """Registered while allowed (development); a dispatcher that refuses private targets never sends."""
    await subscribe(api, receiver, ["order.created"])
    async with dispatcher_running(fast_settings(settings, max_attempts=1, allow_private_targets=False)):
        await api.stocked_order()
        await eventually(lambda: _status_is(db, "failed"))
    (delivery,) = await deliveries(db)
    assert delivery.status == "failed" and delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused: ") and "127.0.0.1" in delivery.last_error
    assert receiver.requests == []


async def test_an_endpoint_failing_for_too_long_is_disabled_and_says_why(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database
) -> None:
    receiver.respond = lambda _r: 503
    hook = await subscribe(api, receiver, ["order.created"])
    async with dispatcher_running(fast_settings(settings, max_attempts=50, disable_after_hours=0.1 / 3600)):
        await api.stocked_order()

        async def disabled() -> bool:
            return not (await api.ok("GET", f"/webhooks/{hook['id']}"))["is_active"]

        await eventually(disabled)
    current = await api.ok("GET", f"/webhooks/{hook['id']}")
    assert current["is_active"] is False
    assert current["disabled_reason"].startswith("Disabled automatically") and "HTTP 503" in current["disabled_reason"]
    revived = await api.ok("PUT", f"/webhooks/{hook['id']}", json={"is_active": True})
    assert revived["is_active"] is True and revived["disabled_reason"] is None


@pytest.mark.parametrize("status", [301, 404])
async def test_a_non_2xx_answer_is_not_delivered(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database, status: int
) -> None:
    receiver.respond = lambda _r: status
    await subscribe(api, receiver, ["order.created"])
    async with dispatcher_running(fast_settings(settings, max_attempts=1)):
        await api.stocked_order()
        await receiver.wait_for(lambda: bool(receiver.requests))
        await eventually(lambda: _status_is(db, "failed"))
    (delivery,) = await deliveries(db)
    assert (delivery.status, delivery.last_status_code) == ("failed", status)


async def test_metrics_count_outcomes_latency_and_the_queue(
    api: Api, receiver: Receiver, settings: Settings, app: Any
) -> None:
    await subscribe(api, receiver, ["order.created"])
    await api.stocked_order()
    registry = CollectorRegistry()
    db = Database(fast_settings(settings))
    try:
        dispatcher = Dispatcher(db, registry=registry)
        await dispatcher.fan_out()
        await dispatcher.update_gauges()
        assert registry.get_sample_value("stateset_webhook_queue_depth") == 1
        assert registry.get_sample_value("stateset_webhook_oldest_pending_seconds") > 0
        await dispatcher.drain()
        await dispatcher.update_gauges()
    finally:
        await db.dispose()
    assert registry.get_sample_value("stateset_webhook_deliveries_total", {"outcome": "delivered"}) == 1
    assert registry.get_sample_value("stateset_webhook_delivery_seconds_count") == 1
    assert registry.get_sample_value("stateset_webhook_queue_depth") == 0
    assert registry.get_sample_value("stateset_webhook_oldest_pending_seconds") == 0
