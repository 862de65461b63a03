"""A PostgreSQL outage and recovery, seen by a client: readiness turns 503 SERVICE_UNAVAILABLE with the
documented error payload while the database is unreachable, DB-backed requests answer 503 (never a
500), and both are 200 again once it is back, without restarting the app.

Why a proxy: the PostgreSQL server is shared with the rest of the suite (and with other work on this
machine), so the outage is made by cutting the path to it instead: a TCP proxy in front of
127.0.0.1:5432 that the app connects through. Closing the proxy's listener and every connection it
carries is what the app sees when the server stops; reopening it on the same port is the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import Request
from sqlalchemy import text

from stateset_gateway.app import create_app
from stateset_gateway.config import load_settings


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream host:port; `stop()` cuts everything, `start()` restores
    the same port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones, as a stopped server does."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self._pipes.clear()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update({client_writer, upstream_writer})
        for source, sink in ((client_reader, upstream_writer), (upstream_reader, client_writer)):
            task = asyncio.ensure_future(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
        self._writers.discard(sink)


@pytest.fixture
async def proxied_url(database_url: str, backend: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """The PostgreSQL test database reached through a TcpProxy."""
    if backend != "postgresql":
        pytest.skip("an unreachable server is a PostgreSQL condition (SQLite is a local file)")
    parsed = urlparse(database_url)
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432)
    await proxy.start()
    netloc = f"{parsed.username}@127.0.0.1:{proxy.port}" if parsed.username else f"127.0.0.1:{proxy.port}"
    try:
        yield parsed._replace(netloc=netloc).geturl(), proxy
    finally:
        await proxy.stop()


GRAPHQL_ORDERS = "{ orders(first: 1) { totalCount } }"


async def _count_orders(request: Request) -> dict[str, int]:
    """A DB-backed route of the test's own: whatever the API grows, this path always needs the database."""
    async with request.app.state.db.reader() as session:
        return {"orders": int((await session.execute(text("SELECT count(*) FROM orders"))).scalar_one())}


def assert_service_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["status"] == 503
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["message"]


async def test_readiness_follows_a_postgres_outage_without_restart(
    proxied_url: tuple[str, TcpProxy], db: Any, admin_headers: dict[str, str]
) -> None:
    url, proxy = proxied_url
    settings = load_settings(database_url=url, database={"connect_timeout": 1, "min_connections": 2})
    app = create_app(settings)
    app.add_api_route("/api/v1/_test/orders-count", _count_orders)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/health/readiness")
            assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
            assert (await client.get("/api/v1/_test/orders-count")).json() == {"orders": 0}

            # Outage: the pool holds connections that just died, and new ones are refused.
            await proxy.stop()
            for _ in range(2):  # the first call meets the dead pooled connections, the next a refusal
                started = time.monotonic()
                down = await client.get("/health/readiness")
                assert time.monotonic() - started < 3.5  # within the probe's timeout, not connect's 30 s
                assert_service_unavailable(down)
                assert down.json()["error"]["details"]["checks"]["database"] == "unreachable"
                assert_service_unavailable(await client.get("/api/v1/_test/orders-count"))
                # The real API too: authentication itself needs the database, and must not turn an
                # outage into a 401 or a 500.
                assert_service_unavailable(await client.get("/api/v1/orders", headers=admin_headers))
                graphql = await client.post("/graphql", json={"query": GRAPHQL_ORDERS}, headers=admin_headers)
                assert graphql.status_code < 500
                assert [e["extensions"]["code"] for e in graphql.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
            assert (await client.get("/health")).status_code == 200  # liveness is unaffected

            # Recovery on the same address, same app instance.
            await proxy.start()
            back = await client.get("/health/readiness")
            assert back.status_code == 200, back.text
            assert back.json() == {"status": "ready", "checks": {"database": "ok"}}
            assert (await client.get("/api/v1/_test/orders-count")).json() == {"orders": 0}
            assert (await client.get("/api/v1/orders", headers=admin_headers)).status_code == 200
            graphql = await client.post("/graphql", json={"query": GRAPHQL_ORDERS}, headers=admin_headers)
            assert graphql.json()["data"] == {"orders": {"totalCount": 0}}


async def test_unresponsive_database_answers_within_the_probe_timeout() -> None:
    """A PostgreSQL host that accepts connections but never answers (hung, or a black-holed network)
    must not hang readiness even with the default 30 s connect timeout: 503 within the 2 s probe."""
    hung_clients: list[asyncio.StreamWriter] = []

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung_clients.append(writer)

    blackhole = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = blackhole.sockets[0].getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/unreachable"
    app = create_app(load_settings(database_url=url, database={"connect_timeout": 30, "min_connections": 0}))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            started = time.monotonic()
            response = await client.get("/health/readiness")
            elapsed = time.monotonic() - started
        assert_service_unavailable(response)
        assert elapsed < 5
    finally:
        for writer in hung_clients:
            writer.transport.abort()
        blackhole.close()
        await blackhole.wait_closed()


async def test_unopenable_sqlite_file_answers_503_not_500(tmp_path: Any) -> None:
    """SQLite's version of "unreachable": the database file cannot be opened (a volume not mounted,
    a directory gone). Readiness and DB-backed paths answer SERVICE_UNAVAILABLE."""
    url = f"sqlite:///{tmp_path / 'not-mounted' / 'stateset.db'}"
    app = create_app(load_settings(database_url=url))
    app.add_api_route("/api/v1/_test/orders-count", _count_orders)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert_service_unavailable(await client.get("/health/readiness"))
        assert_service_unavailable(await client.get("/api/v1/_test/orders-count"))
