"""The gateway's fixed per-request cost, in one process: `python -m bench.fixed_cost`.

The served app (as `stateset-cli serve` builds it, rate limit 10^9/minute so every request is
counted and none refused) on a small seeded SQLite database is called directly through ASGI with an
admin API key, for two requests: `{ __typename }` (the floor: the pipeline, authentication's share,
the endpoint) and bench workload 2, `order(id)` with its nesting (the root resolver's wrapper and
authentication on top of the data). `--database-url` names an empty database to use instead
(PostgreSQL, as the peer benchmark serves). No HTTP and no load generator: CPU time per request
(`time.process_time`, the database's thread included), as the median of alternating batches, so a
slow spell of the shared machine hits both alike. `order(id)` is also measured with the API-key
cache bypassed (every request looks its key up, as before there was one), in the same alternation.
`--profile NAME` prints a cProfile of one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.floor_inprocess import App
from bench.harness import ONE_QUERY

FLOOR = {"query": "{ __typename }"}


def request_for(body: dict[str, Any], key: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    raw = orjson.dumps(body)
    return raw, [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"accept", b"application/json"),
                 (b"x-api-key", key.encode()), (b"content-length", str(len(raw)).encode())]


async def batch(app: App, raw: bytes, headers: list[tuple[bytes, bytes]], requests: int) -> float:
    """CPU seconds for `requests` requests, each checked to answer 200 without errors."""
    bodies: list[bytes] = []
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))

    started = time.process_time()
    for _ in range(requests):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000),
                 "server": ("127.0.0.1", 8080), "state": {}}
        await app(scope, receive, send)
    elapsed = time.process_time() - started
    if set(statuses) != {200} or b'"errors"' in bodies[-1]:
        raise SystemExit(f"the request did not answer 200 without errors: {sorted(set(statuses))} {bodies[-1][:300]!r}")
    return elapsed


async def measure(rounds: int, requests: int, profile: str | None, database_url: str | None) -> dict[str, list[float]]:
    from stateset_gateway.app import create_served_app
    from stateset_gateway.auth.api_keys import create_api_key
    from stateset_gateway.db import migrate
    from stateset_gateway.db.demo import SeedSize, seed
    from stateset_gateway.db.engine import Database

    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        os.environ["APP__DATABASE_URL"] = database_url or f"sqlite:///{Path(tmp) / 'fixed.db'}"
        os.environ["APP__RATE_LIMIT"] = "1000000000/minute"
        os.environ["APP__GRAPHQL__COST_BUDGET"] = "off"
        with contextlib.redirect_stdout(devnull):  # the log handlers bind to stdout as they are made
            gateway = create_served_app()
        settings = gateway.state.settings
        db = Database(settings)
        await migrate.upgrade(db.write_engine)
        await seed(db, SeedSize(customers=50, products=20, orders=200, max_items_per_order=4))
        key = (await create_api_key(db, name="bench", permissions=["admin:*"])).key
        async with db.reader() as session:
            from sqlalchemy import text

            order_id = str((await session.execute(text("SELECT id FROM orders LIMIT 1"))).scalar_one())
        await db.dispose()
        requests_by_name = {"floor": request_for(FLOOR, key),
                            "order": request_for({"query": ONE_QUERY, "variables": {"id": order_id}}, key)}
        async with gateway.router.lifespan_context(gateway):
            for raw, headers in requests_by_name.values():  # warm-up: caches, lazily built stacks
                await batch(gateway, raw, headers, 200)
            gc.collect()
            gc.freeze()  # as a served process does once it is up
            if profile:
                raw, headers = requests_by_name[profile]
                profiler = cProfile.Profile()
                profiler.enable()
                await batch(gateway, raw, headers, requests)
                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
                    os.environ.get("BENCH_FILTER", ""), 40)
                return {}
            keys = gateway.state.keys
            requests_by_name["order, key cache bypassed"] = requests_by_name["order"]
            timings: dict[str, list[float]] = {name: [] for name in requests_by_name}
            names = list(requests_by_name)
            for i in range(rounds):
                for name in names if i % 2 == 0 else names[::-1]:
                    raw, headers = requests_by_name[name]
                    if name.endswith("bypassed"):  # as before the cache: every request looks its key up
                        keys.trusted = lambda digest: None
                    try:
                        timings[name].append(await batch(gateway, raw, headers, requests) / requests * 1e6)
                    finally:
                        keys.__dict__.pop("trusted", None)
                print(f"round {i + 1:2d}: " + ", ".join(f"{n} {t[-1]:7.1f} us/req" for n, t in timings.items()),
                      file=sys.stderr)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=500, help="requests per batch")
    parser.add_argument("--profile", choices=["floor", "order"], help="print a cProfile of one request kind")
    parser.add_argument("--database-url", help="an empty database to migrate and seed (default: a temporary "
                                               "SQLite file)")
    opts = parser.parse_args()
    timings = asyncio.run(measure(opts.rounds, opts.requests, opts.profile, opts.database_url))
    for name, values in timings.items():
        quartiles = statistics.quantiles(values, n=4)
        print(f"{name}: median {statistics.median(values):.1f} us/request of CPU (quartiles {quartiles[0]:.1f}-"
              f"{quartiles[2]:.1f}, {len(values)} rounds of {opts.requests} requests)")
    if timings:
        ratios = [b / c for b, c in zip(timings["order, key cache bypassed"], timings["order"])]
        print(f"order(id) with the key cache bypassed / cached: median of rounds {statistics.median(ratios):.3f} "
              f"({', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
