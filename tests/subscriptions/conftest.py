"""Subscriptions against live gateways: uvicorn on loopback ports, real WebSocket clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from stateset_gateway.app import create_app
from stateset_gateway.config import Settings
from stateset_gateway.http.websocket import GraphQLWebSocket

SUBPROTOCOL = "graphql-transport-ws"
WAIT = 10.0  # seconds any one expected message may take before the test fails


@dataclass
class Gateway:
    """One live instance: its HTTP base URL, its WebSocket URL, and its application."""

    http: str
    ws: str
    app: Any

    def layer(self) -> GraphQLWebSocket:
        """The instance's WebSocket layer (to see how many subscribers it serves)."""
        node = self.app.middleware_stack
        while not isinstance(node, GraphQLWebSocket):
            node = node.app
        return node


@asynccontextmanager
async def live_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the gateway did not start"
        await asyncio.sleep(0.02)
    try:
        yield Gateway(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", app)
    finally:
        server.should_exit = True
        await serving


class Socket:
    """A graphql-transport-ws client over one WebSocket connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(orjson.dumps(message).decode())

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            message: dict[str, Any] = orjson.loads(await self.connection.recv())
        return message

    async def init(self, payload: dict[str, Any] | None) -> None:
        await self.send({"type": "connection_init", "payload": payload})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        """Subscribe, then wait for a pong: the server reads messages in order, so the subscription
        is live once the ping sent after it has been answered."""
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        await self.send({"type": "ping"})
        self.pending: list[dict[str, Any]] = []
        while (message := await self.receive())["type"] != "pong":
            self.pending.append(message)

    async def next_payloads(self, operation_id: str, count: int) -> list[dict[str, Any]]:
        """The payloads of the next `count` `next` messages for `operation_id`."""
        payloads = []
        while len(payloads) < count:
            message = await self.receive()
            if message["type"] == "ping":
                continue
            assert message["type"] == "next" and message["id"] == operation_id, message
            payloads.append(message["payload"])
        return payloads

    async def closed(self) -> tuple[int | None, str | None]:
        """Read until the server closes; its close code and reason."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    await self.connection.recv()
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame is not None else (None, None)


SocketFactory = Callable[..., Any]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with live_gateway(settings) as live:
        yield live


@pytest.fixture
async def http(gateway: Gateway, admin_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the live gateway as an admin API key."""
    async with httpx.AsyncClient(base_url=gateway.http, headers=admin_headers) as client:
        yield client


@pytest.fixture
async def sockets() -> AsyncIterator[Callable[..., Any]]:
    """`await sockets(url)`: a connected `Socket` (closed at the end of the test)."""
    async with AsyncExitStack() as stack:
        async def open_socket(url: str, subprotocols: list[str] | None = None, **options: Any) -> Socket:
            protocols = [SUBPROTOCOL] if subprotocols is None else subprotocols
            connection = await stack.enter_async_context(
                connect(url, subprotocols=protocols or None, open_timeout=WAIT, **options))  # type: ignore[arg-type]
            return Socket(connection)

        yield open_socket
