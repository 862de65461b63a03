"""Across instances: an event committed through one gateway process reaches a subscriber connected
to another; and a subscriber too slow for its events is closed instead of buffered for."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson

from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers import events
from tests.subscriptions.conftest import WAIT, live_gateway
from tests.subscriptions.test_order_updates import ORDER_UPDATED, ok, statuses, stocked_order


def elsewhere(database_url: str) -> str:
    """The same database under another spelling of its URL. Instances in one test process would
    otherwise wake each other's feeds directly (a process's commits wake its own feeds at once,
    found by database URL); spelled differently, the writer is a stranger to the subscriber's
    process, and only what crosses processes can tell it: NOTIFY on PostgreSQL, the periodic
    read on SQLite."""
    if database_url.startswith("sqlite"):
        folder, _, name = database_url.rpartition("/")
        return f"{folder}/./{name}"
    assert "@127.0.0.1:" in database_url, database_url
    return database_url.replace("@127.0.0.1:", "@localhost:", 1)


async def test_an_event_through_one_instance_reaches_a_subscriber_on_another(
        settings: Settings, backend: str, database_url: str, sockets: object,
        admin_headers: dict[str, str]) -> None:
    """On PostgreSQL the subscriber's instance reads the outbox only when woken (NOTIFY): its
    periodic read is a minute away. On SQLite there is no wake-up between processes: it reads every second."""
    poll = 60.0 if backend == "postgresql" else 1.0
    reader_settings = settings.model_copy(update={
        "subscriptions": settings.subscriptions.model_copy(update={"poll_seconds": poll})})
    writer_settings = settings.model_copy(update={"database_url": elsewhere(database_url)})
    async with live_gateway(writer_settings) as writer_instance, live_gateway(reader_settings) as reader:
        async with httpx.AsyncClient(base_url=writer_instance.http, headers=admin_headers) as writer:
            order = await stocked_order(writer)
            sub = await sockets(reader.ws)  # type: ignore[operator]
            await sub.init(admin_headers)
            await sub.subscribe("1", ORDER_UPDATED, {"id": order["id"]})
            for status in ("confirmed", "processing"):
                await ok(await writer.put(f"/api/v1/orders/{order['id']}/status", json={"status": status}))
            assert statuses(await sub.next_payloads("1", 2)) == ["CONFIRMED", "PROCESSING"]


class StalledClient:
    """A WebSocket client that stops reading: a bare socket with a 16 KiB receive buffer (else
    loopback grows it to tens of MB), which does the handshake and sends its messages, and then
    never reads again, as a stalled browser tab would."""

    def __init__(self, port: int) -> None:
        self.raw = socket.socket()
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.raw.setblocking(False)
        self.port = port
        self.loop = asyncio.get_running_loop()

    async def read_until(self, marker: bytes) -> None:
        seen = b""
        async with asyncio.timeout(WAIT):
            while marker not in seen:
                chunk = await self.loop.sock_recv(self.raw, 65536)
                assert chunk, "the server closed the connection"
                seen += chunk

    async def send(self, message: dict[str, object]) -> None:
        payload = orjson.dumps(message)
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + length.to_bytes(2))
        await self.loop.sock_sendall(self.raw, header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def open(self, headers: dict[str, str], query: str, variables: dict[str, object]) -> None:
        await self.loop.sock_connect(self.raw, ("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        await self.loop.sock_sendall(self.raw, (
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        await self.read_until(b"\r\n\r\n")
        await self.send({"type": "connection_init", "payload": headers})
        await self.read_until(b"connection_ack")
        await self.send({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        await self.send({"type": "ping"})
        await self.read_until(b"pong")


async def test_a_slow_consumer_is_closed_and_the_others_keep_up(settings: Settings, db: Database, sockets: object,
                                                               admin_headers: dict[str, str]) -> None:
    """A client that stops reading while large events keep coming: its socket's buffer and its
    subscription's queue fill (4 messages each here) and the server closes it, dropping what it
    had queued, while a client reading the same events gets every one."""
    tight = settings.model_copy(update={
        "subscriptions": settings.subscriptions.model_copy(update={"send_buffer": 4})})
    order_id = str(uuid.uuid4())
    async with live_gateway(tight) as gateway:
        stalled = StalledClient(int(gateway.http.rsplit(":", 1)[1]))
        await stalled.open(admin_headers, "subscription($id: ID!) { orderUpdated(id: $id) { notes } }",
                           {"id": order_id})
        reader = await sockets(gateway.ws, max_size=2**20)  # type: ignore[operator]
        await reader.init(admin_headers)
        await reader.subscribe("1", "subscription($id: ID!) { orderUpdated(id: $id) { version } }", {"id": order_id})
        layer = gateway.layer()
        assert layer.hub.subscribers == 2

        published = 150  # 15 MB of payloads for the stalled client: more than any buffer on the way holds
        async with db.writer() as session:  # straight into the outbox, one commit
            for version in range(1, published + 1):
                await events.record_event(session, "order.updated",
                                          {"id": order_id, "version": version, "status": "pending",
                                           "notes": "x" * 100_000})
        payloads = await reader.next_payloads("1", published)
        assert [p["data"]["orderUpdated"]["version"] for p in payloads] == list(range(1, published + 1))
        async with asyncio.timeout(WAIT):  # the stalled client's subscription is gone with its socket
            while layer.hub.subscribers != 1:
                await asyncio.sleep(0.05)
        stalled.raw.close()
