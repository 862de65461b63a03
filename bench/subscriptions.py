"""Subscription fan-out: `python -m bench.subscriptions`.

Seeds a fresh database (SQLite by default, `--database postgresql` for a new PostgreSQL database),
starts one gateway as the benchmark serves it (bench/serve.py) with the per-client socket cap raised
above N and no rate limit, and measures two things the WebSocket layer promises to keep bounded:

- memory per idle subscriber: the server's resident set before and after N sockets each hold one
  `orderEvents` subscription, divided by N;
- fan-out: E order status changes made through the REST API, one after another, and the time from
  the first change until every subscriber has received every event; events delivered per second
  (N * E / that time) and the server's CPU time per delivered event (utime + stime of its
  processes, which includes the E REST writes themselves).

The subscribers all live in this process (asyncio holds a thousand sockets easily); its own CPU
time is reported too, since on a small machine the clients compete with the server for it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.harness import ROOT, Server, _admin, bench_environment, free_port, log, write_json
from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.config import load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Order

SUBSCRIPTION = "subscription { orderEvents { id orderNumber status total } }"
SUBPROTOCOL = Subprotocol("graphql-transport-ws")
SEED = {"customers": 200, "products": 50, "orders": 400}


@dataclass
class Report:
    database: str
    subscribers: int
    events: int
    rss_before_mb: float
    rss_idle_mb: float
    kb_per_subscriber: float
    connect_seconds: float
    delivered: int
    fan_out_seconds: float
    events_per_second: float
    server_cpu_us_per_event: float
    client_cpu_us_per_event: float
    closed_early: int


def _tree_rss_kb(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _tree_cpu_seconds(pids: Sequence[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def _prepare(database_url: str, events: int) -> tuple[str, list[str]]:
    """An admin key, and `events` pending orders whose confirmation makes one event each."""
    db = Database(load_settings(database_url=database_url))
    try:
        issued = await create_api_key(db, name="subscriptions bench", permissions=["admin:*"])
        async with db.reader() as session:
            ids = [str(i) for i in (await session.scalars(
                select(Order.id).where(Order.status == "pending").order_by(Order.id).limit(events))).all()]
    finally:
        await db.dispose()
    if len(ids) < events:
        raise RuntimeError(f"only {len(ids)} pending orders for {events} events; seed more orders")
    return issued.key, ids


class Subscriber:
    """One socket with one `orderEvents` subscription, counting the events it receives."""

    def __init__(self, connection: ClientConnection, expected: int, done: asyncio.Event, tally: list[int]) -> None:
        self.connection, self.expected, self.done, self.tally = connection, expected, done, tally
        self.received = 0
        self.closed_early = False
        self.failure: str | None = None

    async def send(self, message: dict[str, object]) -> None:
        await self.connection.send(json.dumps(message))

    async def start(self, key: str) -> None:
        await self.send({"type": "connection_init", "payload": {"X-API-Key": key}})
        if json.loads(await self.connection.recv()) != {"type": "connection_ack"}:
            raise RuntimeError("connection_init was not acknowledged")
        await self.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        await self.send({"type": "ping"})  # messages are read in order: the pong means the subscription is live
        message = json.loads(await self.connection.recv())
        if message["type"] != "pong":
            raise RuntimeError(f"subscription not accepted: {message}")

    async def listen(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                elif message["type"] == "next":
                    if "errors" in message["payload"]:
                        raise RuntimeError(f"event with errors: {message['payload']['errors']}")
                    self.received += 1
                    if self.received == self.expected:
                        self.tally[0] -= 1
                        if self.tally[0] == 0:
                            self.done.set()
                else:
                    raise RuntimeError(f"unexpected message: {message}")
        except Exception as exc:  # noqa: BLE001 - reported with the count of what was missed
            self.failure = repr(exc)
        if self.received < self.expected:
            self.closed_early = True
            self.tally[0] -= 1
            if self.tally[0] == 0:
                self.done.set()


async def _measure(server: Server, port: int, key: str, order_ids: list[str], subscribers: int,
                   timeout: float, database: str) -> Report:
    url = f"ws://127.0.0.1:{port}/graphql"
    async with connect(url, subprotocols=[SUBPROTOCOL]) as warm_up:
        # one subscription first, so the baseline already holds what the first socket loads once
        await Subscriber(warm_up, 0, asyncio.Event(), [1]).start(key)
    gc.collect()
    await asyncio.sleep(1.0)
    rss_before = _tree_rss_kb(server.pids)
    done, tally = asyncio.Event(), [subscribers]
    clients: list[Subscriber] = []
    opening = asyncio.Semaphore(50)

    async def open_one() -> Subscriber:
        async with opening:
            connection = await connect(url, subprotocols=[SUBPROTOCOL], max_queue=None,
                                       ping_interval=None, open_timeout=timeout)
            client = Subscriber(connection, len(order_ids), done, tally)
            await client.start(key)
            return client

    started = time.monotonic()
    clients = list(await asyncio.gather(*(open_one() for _ in range(subscribers))))
    connect_seconds = time.monotonic() - started
    listeners = [asyncio.create_task(c.listen()) for c in clients]
    await asyncio.sleep(2.0)  # let the server settle after the handshakes
    rss_idle = _tree_rss_kb(server.pids)
    log(f"{subscribers} subscribers open in {connect_seconds:.1f}s; server RSS {rss_before / 1024:.1f} -> "
        f"{rss_idle / 1024:.1f} MB")

    cpu_server, cpu_client = _tree_cpu_seconds(server.pids), _own_cpu_seconds()
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                                 timeout=30) as http:
        for order_id in order_ids:
            response = await http.put(f"/api/v1/orders/{order_id}/status", json={"status": "confirmed"})
            if response.status_code != 200:
                raise RuntimeError(f"status change refused: {response.status_code} {response.text[:300]}")
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        log(f"not every subscriber had every event within {timeout:.0f}s")
    fan_out = time.monotonic() - started
    cpu_server = _tree_cpu_seconds(server.pids) - cpu_server
    cpu_client = _own_cpu_seconds() - cpu_client
    for client in clients:
        await client.connection.close()
    await asyncio.gather(*listeners)

    failures = [c.failure for c in clients if c.failure]
    if failures:
        log(f"{len(failures)} subscriber(s) failed, e.g. {failures[0][:300]}")
    delivered = sum(min(c.received, len(order_ids)) for c in clients)
    events = len(order_ids)
    return Report(
        database=database, subscribers=subscribers, events=events,
        rss_before_mb=rss_before / 1024, rss_idle_mb=rss_idle / 1024,
        kb_per_subscriber=(rss_idle - rss_before) / subscribers,
        connect_seconds=connect_seconds, delivered=delivered, fan_out_seconds=fan_out,
        events_per_second=delivered / fan_out if fan_out else 0.0,
        server_cpu_us_per_event=cpu_server * 1e6 / delivered if delivered else 0.0,
        client_cpu_us_per_event=cpu_client * 1e6 / delivered if delivered else 0.0,
        closed_early=sum(c.closed_early for c in clients))


def run(database: str, subscribers: int, events: int, *, pg_url: str, timeout: float) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="stateset-bench-subs-"))
    env = bench_environment()
    db_name = f"stateset_bench_subs_{datetime.now(UTC):%Y%m%d_%H%M%S}"
    if database == "sqlite":
        database_url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        database_url = f"{pg_url}/{db_name}"
        asyncio.run(_admin(pg_url, f'CREATE DATABASE "{db_name}"'))
    try:
        orders = max(SEED["orders"], events * 4)
        log(f"{database}: seeding {SEED['customers']} customers, {SEED['products']} products, {orders} orders")
        subprocess.run([sys.executable, "-m", "stateset_gateway.cli", "seed", "--customers", str(SEED["customers"]),
                        "--products", str(SEED["products"]), "--orders", str(orders)],
                       cwd=ROOT, env={**env, "APP__DATABASE_URL": database_url}, check=True,
                       stdout=subprocess.DEVNULL)
        key, order_ids = asyncio.run(_prepare(database_url, events))
        port = free_port()
        server_env = {**env, "APP__DATABASE_URL": database_url, "APP__HOST": "127.0.0.1", "APP__PORT": str(port),
                      "APP__RATE_LIMIT": "1000000000/minute", "APP__LOGGING__LEVEL": "WARNING",
                      "APP__SUBSCRIPTIONS__MAX_CONNECTIONS_PER_CLIENT": str(subscribers + 10),
                      "APP__SUBSCRIPTIONS__SEND_BUFFER": str(max(100, events * 2))}
        server = Server("gateway", [sys.executable, "-m", "bench.serve"], server_env, port, "/health",
                        workdir / "gateway.log")
        try:
            server.wait_ready()
            return asyncio.run(_measure(server, port, key, order_ids, subscribers, timeout, database))
        finally:
            server.stop()
    finally:
        if database == "postgresql":
            asyncio.run(_admin(pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


ROWS = [
    ("database", "database", "{}"),
    ("subscribers (N)", "subscribers", "{:,}"),
    ("events (E)", "events", "{:,}"),
    ("server RSS before, MB", "rss_before_mb", "{:,.1f}"),
    ("server RSS with N idle subscribers, MB", "rss_idle_mb", "{:,.1f}"),
    ("memory per idle subscriber, KB", "kb_per_subscriber", "{:,.1f}"),
    ("time to open N subscriptions, s", "connect_seconds", "{:,.2f}"),
    ("events delivered (of N*E)", "delivered", "{:,}"),
    ("first change to last delivery, s", "fan_out_seconds", "{:,.2f}"),
    ("events delivered per second", "events_per_second", "{:,.0f}"),
    ("server CPU per delivered event, us", "server_cpu_us_per_event", "{:,.1f}"),
    ("client CPU per delivered event, us", "client_cpu_us_per_event", "{:,.1f}"),
    ("subscribers closed before every event", "closed_early", "{:,}"),
]


def format_report(reports: Sequence[Report], *, markdown: bool = False) -> str:
    cells = [[label] + [fmt.format(getattr(r, name)) for r in reports] for label, name, fmt in ROWS]
    if markdown:
        head = ["measure"] + [f"run {i + 1}" for i in range(len(reports))]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in cells)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--subscribers", "-N", type=int, default=1_000, help="open subscriptions (default 1,000)")
    parser.add_argument("--events", "-E", type=int, default=50, help="order status changes (default 50)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for every delivery, and for each socket to open (default 120)")
    parser.add_argument("--pg-url", default=os.environ.get("STATESET_BENCH_POSTGRES_URL",
                                                           "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", dest="json_out", type=Path, help="also write the figures here")
    opts = parser.parse_args(argv)
    for name in ("subscribers", "events"):
        if getattr(opts, name) < 1:
            parser.error(f"--{name} must be at least 1")
    load_before = os.getloadavg()[0]
    report = run(opts.database, opts.subscribers, opts.events, pg_url=opts.pg_url.rstrip("/"), timeout=opts.timeout)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; one gateway worker; {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} at start")
    print()
    print(format_report([report], markdown=opts.markdown))
    if opts.json_out:
        write_json(opts.json_out, asdict(report))
    return 0 if report.delivered == report.subscribers * report.events else 1


if __name__ == "__main__":
    sys.exit(main())
