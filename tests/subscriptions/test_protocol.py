"""graphql-transport-ws as its specification gives it: initialisation, ping/pong, the close codes,
and the limits on what one client and one socket may hold."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from stateset_gateway.auth.api_keys import create_api_key, revoke_api_key
from stateset_gateway.auth.tokens import LEEWAY_SECONDS, issue_access_token
from stateset_gateway.auth.users import register
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.types import utcnow
from stateset_gateway.schema.permissions import declared_permission
from stateset_gateway.schema.subscriptions import Subscription
from tests.subscriptions.conftest import Gateway, live_gateway
from tests.support.auth import AuthHeaders

STOCK = "subscription { inventoryChanged { available } }"


@asynccontextmanager
async def gateway_with(settings: Settings, **limits: Any) -> AsyncIterator[Gateway]:
    subscriptions = settings.subscriptions.model_copy(update=limits)
    async with live_gateway(settings.model_copy(update={"subscriptions": subscriptions})) as live:
        yield live


async def test_ping_is_answered_with_pong_before_and_after_init(gateway: Gateway, sockets: Any,
                                                               admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.send({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}
    await socket.init(admin_headers)
    await socket.send({"type": "ping", "payload": {"at": 1}})
    assert await socket.receive() == {"type": "pong"}


async def test_bearer_credentials_in_the_headers_of_the_payload(gateway: Gateway, sockets: Any,
                                                               admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init({"headers": {"Authorization": f"Bearer {admin_headers['X-API-Key']}"}})
    await socket.subscribe("1", STOCK)
    assert socket.pending == []


async def test_missing_or_bad_credentials_close_with_4403(gateway: Gateway, sockets: Any) -> None:
    for payload in (None, {}, {"X-API-Key": "sk_not_a_real_key"}, {"Authorization": "Bearer not.a.token"}):
        socket = await sockets(gateway.ws)
        await socket.send({"type": "connection_init", "payload": payload})
        code, reason = await socket.closed()
        assert code == 4403 and reason.startswith("Forbidden"), payload


async def test_no_connection_init_within_the_timeout_closes_with_4408(settings: Settings, sockets: Any) -> None:
    async with gateway_with(settings, connection_init_timeout=0.2) as gateway:
        socket = await sockets(gateway.ws)
        assert await socket.closed() == (4408, "Connection initialisation timeout")


async def test_a_second_connection_init_closes_with_4429(gateway: Gateway, sockets: Any,
                                                         admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init(admin_headers)
    await socket.send({"type": "connection_init", "payload": admin_headers})
    assert await socket.closed() == (4429, "Too many initialisation requests")


async def test_subscribe_before_the_ack_closes_with_4401(gateway: Gateway, sockets: Any) -> None:
    socket = await sockets(gateway.ws)
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": STOCK}})
    assert await socket.closed() == (4401, "Unauthorized")


async def test_a_running_id_subscribed_again_closes_with_4409(gateway: Gateway, sockets: Any,
                                                              admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init(admin_headers)
    await socket.subscribe("dup", STOCK)
    await socket.send({"id": "dup", "type": "subscribe", "payload": {"query": STOCK}})
    assert await socket.closed() == (4409, "Subscriber for dup already exists")


async def test_a_completed_id_may_be_used_again(gateway: Gateway, sockets: Any, admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init(admin_headers)
    await socket.subscribe("1", STOCK)
    await socket.send({"id": "1", "type": "complete"})
    await socket.subscribe("1", STOCK)
    assert socket.pending == []


async def test_invalid_messages_close_with_4400(gateway: Gateway, sockets: Any, admin_headers: dict[str, str]) -> None:
    for message in ("not json", "[1, 2]", '{"type": "start", "id": "1"}', '{"type": "subscribe", "id": "1"}',
                    '{"id": "1"}'):
        socket = await sockets(gateway.ws)
        await socket.init(admin_headers)
        await socket.connection.send(message)
        code, reason = await socket.closed()
        assert code == 4400 and reason.startswith("Invalid message"), message


async def test_a_client_without_the_subprotocol_is_closed_with_4406(gateway: Gateway, sockets: Any) -> None:
    socket = await sockets(gateway.ws, subprotocols=[])
    assert await socket.closed() == (4406, "Subprotocol not acceptable")


async def test_refused_operations_get_an_error_message_and_the_socket_stays(
        gateway: Gateway, sockets: Any, admin_headers: dict[str, str]) -> None:
    socket = await sockets(gateway.ws)
    await socket.init(admin_headers)
    cases = {
        "syntax": "subscription {",
        "unknown field": "subscription { nothing }",
        "query": "{ me { email } }",
        "bad id": 'subscription { orderUpdated(id: "not-a-uuid") { id } }',
    }
    for operation_id, query in cases.items():
        await socket.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
        refused = await socket.receive()
        assert refused["type"] == "error" and refused["id"] == operation_id, refused
        assert refused["payload"][0]["extensions"]["code"] == "VALIDATION_ERROR", refused
    await socket.send({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}


async def test_cost_and_depth_are_checked_like_a_query(settings: Settings, sockets: Any,
                                                       admin_headers: dict[str, str]) -> None:
    graphql = settings.graphql.model_copy(update={"max_cost": 10, "max_depth": 3})
    async with live_gateway(settings.model_copy(update={"graphql": graphql})) as gateway:
        socket = await sockets(gateway.ws)
        await socket.init(admin_headers)
        order = str(uuid.uuid4())
        expensive = ("subscription($id: ID!) { orderUpdated(id: $id) { customer { orders(first: 50) "
                     "{ nodes { id } } } } }")
        await socket.send({"id": "cost", "type": "subscribe",
                           "payload": {"query": expensive, "variables": {"id": order}}})
        refused = await socket.receive()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["details"]["max_cost"] == 10
        deep = "subscription($id: ID!) { orderUpdated(id: $id) { items { product { inventoryLevels { id } } } } }"
        await socket.send({"id": "depth", "type": "subscribe", "payload": {"query": deep, "variables": {"id": order}}})
        refused = await socket.receive()
        assert refused["type"] == "error" and "depth" in refused["payload"][0]["message"]
        await socket.subscribe("fine", "subscription($id: ID!) { orderUpdated(id: $id) { id status } }", {"id": order})
        assert socket.pending == []


async def test_subscriptions_per_socket_are_capped(settings: Settings, sockets: Any,
                                                  admin_headers: dict[str, str]) -> None:
    async with gateway_with(settings, max_subscriptions_per_connection=2) as gateway:
        socket = await sockets(gateway.ws)
        await socket.init(admin_headers)
        await socket.subscribe("1", STOCK)
        await socket.subscribe("2", STOCK)
        await socket.send({"id": "3", "type": "subscribe", "payload": {"query": STOCK}})
        refused = await socket.receive()
        assert refused["type"] == "error" and refused["id"] == "3"
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"
        await socket.send({"id": "1", "type": "complete"})
        await socket.subscribe("3", STOCK)
        assert socket.pending == []


async def test_connections_per_client_are_capped(settings: Settings, sockets: Any, auth_headers: AuthHeaders) -> None:
    async with gateway_with(settings, max_connections_per_client=2) as gateway:
        headers = await auth_headers(["inventory:read"])
        first, second, third = [await sockets(gateway.ws) for _ in range(3)]
        await first.init(headers)
        await second.init(headers)
        await third.send({"type": "connection_init", "payload": headers})
        code, reason = await third.closed()
        assert code == 4403 and "2 connections" in reason
        other = await sockets(gateway.ws)  # another client is not affected
        await other.init(await auth_headers(["inventory:read"]))
        await first.connection.close()
        await asyncio.sleep(0.1)  # the server notices the first socket has gone
        again = await sockets(gateway.ws)
        await again.init(headers)


async def test_a_revoked_key_closes_its_socket_within_a_second(gateway: Gateway, sockets: Any, db: Database) -> None:
    issued = await create_api_key(db, name="watcher", permissions=["inventory:read"])
    socket = await sockets(gateway.ws)
    await socket.init({"X-API-Key": issued.key})
    await socket.subscribe("1", STOCK)
    await revoke_api_key(db, issued.record.id)
    async with asyncio.timeout(1.5):
        code, reason = await socket.closed()
    assert code == 4403 and reason.startswith("Forbidden")


async def test_an_access_token_that_expires_closes_its_socket(gateway: Gateway, sockets: Any, db: Database,
                                                              settings: Settings) -> None:
    user = await register(db, "watcher@example.com", "a long enough password", role="readonly")
    # valid for about two more seconds, the clock-skew leeway included
    issued_at = utcnow() - timedelta(seconds=LEEWAY_SECONDS)
    token = issue_access_token(settings, subject=user.id, permissions=[], now=issued_at, ttl=2)
    socket = await sockets(gateway.ws)
    await socket.init({"Authorization": f"Bearer {token}"})
    await socket.subscribe("1", STOCK)
    assert socket.pending == []
    async with asyncio.timeout(2 + 1.5):
        code, reason = await socket.closed()
    assert code == 4403 and "expired" in reason


def test_every_subscription_field_declares_its_permission() -> None:
    fields = Subscription.__strawberry_definition__.fields  # type: ignore[attr-defined]
    assert {field.python_name: declared_permission(field) for field in fields} == {
        "order_updated": "orders:read", "order_events": "orders:read",
        "inventory_changed": "inventory:read", "shipment_updated": "shipments:read"}
