"""The floor against the bare FastAPI reference, in one process: `python -m bench.floor_inprocess`.

Both ASGI apps (`bench.refapp` and the gateway as `stateset-cli serve` builds it, with the harness's
rate limit of 10^9/minute, so every request is counted and none refused) are called directly with the
floor request, `POST /graphql {"query": "{ __typename }"}` with an API key, in alternating batches
(the order flips every round). No HTTP and no load generator, so what is measured is the apps' own
CPU per request; a slow spell of the machine hits both sides of a round alike. The figure is the
median over rounds of reference time / gateway time, which is the gateway's req/s as a fraction of
the reference's.

The gateway's request log goes to /dev/null, as a served process's goes to its log file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

BODY = orjson.dumps({"query": "{ __typename }"})
HEADERS = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"accept", b"application/json"),
           (b"x-api-key", b"sk_" + b"b" * 43), (b"content-length", str(len(BODY)).encode())]
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def batch(app: App, requests: int) -> float:
    """CPU seconds for `requests` floor requests, each checked to answer 200."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(requests):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
                 "root_path": "", "headers": HEADERS, "client": ("127.0.0.1", 40000),
                 "server": ("127.0.0.1", 8080), "state": {}}
        await app(scope, receive, send)
    elapsed = time.process_time() - started
    if set(statuses) != {200}:
        raise SystemExit(f"the floor request did not answer 200: {sorted(set(statuses))}")
    return elapsed


async def measure(rounds: int, requests: int) -> list[float]:
    from bench.refapp import app as reference
    from stateset_gateway.app import create_app
    from stateset_gateway.config import load_settings

    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        with contextlib.redirect_stdout(devnull):  # the log handlers bind to stdout as they are made
            gateway = create_app(load_settings(database_url=f"sqlite:///{Path(tmp) / 'floor.db'}",
                                               rate_limit="1000000000/minute"))
        async with gateway.router.lifespan_context(gateway):
            for app in (reference, gateway):  # warm-up: caches, lazily built middleware stacks
                await batch(app, 200)
            gc.collect()
            gc.freeze()  # as a served process does once it is up
            ratios = []
            for i in range(rounds):
                pair = [("ref", reference), ("gw", gateway)]
                timed = {name: await batch(app, requests) for name, app in (pair if i % 2 == 0 else pair[::-1])}
                ratios.append(timed["ref"] / timed["gw"])
                print(f"round {i + 1:2d}: gateway {timed['gw'] / requests * 1e6:6.1f} us/req, reference "
                      f"{timed['ref'] / requests * 1e6:6.1f} us/req, ratio {ratios[-1]:.3f}", file=sys.stderr)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="requests per batch")
    opts = parser.parse_args()
    ratios = asyncio.run(measure(opts.rounds, opts.requests))
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"floor / reference, in-process: median {statistics.median(ratios):.3f} "
          f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}, {len(ratios)} rounds of {opts.requests} requests)")


if __name__ == "__main__":
    main()
