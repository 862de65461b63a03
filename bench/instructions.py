"""Instructions per request, counted by callgrind: `python -m bench.instructions`.

CPU time on a shared 2-CPU machine moves by half between two runs of the same code; the number of
instructions a request executes does not (valgrind counts them; the same code and data give the same
count to a few parts in a thousand whatever else the machine is doing). So a change to the hot path
is compared here: each shape of bench/shapes.py (the gateway's side) is sent straight to the ASGI
app, as bench/fixed_cost.py sends its requests, in a child process run under
`valgrind --tool=callgrind --instr-atstart=no`; the child warms up (plans, statements, the pool),
switches counting on with `callgrind_control -i on`, sends N requests one after another, switches it
off, and the parent reads the total. Start-up, imports and warm-up are not counted.

It needs valgrind and PostgreSQL (a seeded database of 2,000 customers, 300 products and 10,000
orders is made, with the peer's returns, and dropped at the end; `--database-url` names one to use
instead). `--root PATH` runs another checkout's `stateset_gateway` (e.g. a worktree of the commit
before a change) against the same database, so two trees are compared on the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"  # as bench.nested_inprocess
DEFAULT_REQUESTS = {"1": 10, "4": 20, "7": 300}  # else 30: enough for a stable count, quick under valgrind


def _scope(key: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"accept", b"application/json"),
               (b"x-api-key", key.encode()), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080), "state": {}}


async def _call(app: Any, key: str, body: bytes) -> tuple[int, bytes]:
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(key, body), receive, send)
    return status, b"".join(chunks)


async def child(spec: dict[str, Any]) -> None:
    """Runs inside valgrind (as a script, so that `--root`'s package is the one imported): warm up,
    count `spec["requests"]` requests of `spec["query"]`, print how many answered 200."""
    requests, url, key = spec["requests"], spec["url"], spec["key"]
    from stateset_gateway.app import create_app
    from stateset_gateway.auth import key_cache
    from stateset_gateway.config import load_settings

    # A verified key is trusted for a second, then read again. Served, that is one lookup per
    # thousands of requests; under valgrind a second is a few requests, so the lookup would land in
    # some counts and not others. Counted here: the request's own work, the key always trusted.
    key_cache.TRUST_SECONDS = float("inf")

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        app = create_app(load_settings(database_url=url, rate_limit="1000000000/minute",
                                       graphql={"cost_budget": "off"}, logging={"level": "WARNING"}))
    async with app.router.lifespan_context(app):
        _, raw = await _call(app, key, orjson.dumps({"query": "{ orders(first: 50) { nodes { id } } }"}))
        ids = [node["id"] for node in orjson.loads(raw)["data"]["orders"]["nodes"]]
        bodies = [orjson.dumps({"query": spec["query"],
                                "variables": {"id": ids[i % len(ids)]} if spec["by_order_id"]
                                else spec["variables"]}) for i in range(len(ids))]
        status, raw = await _call(app, key, bodies[0])
        if status != 200 or b'"errors"' in raw:
            raise SystemExit(f"the query failed: {raw[:300]!r}")
        for i in range(50):
            await _call(app, key, bodies[i % len(bodies)])
        _settle_collector()
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
        ok = 0
        for i in range(requests):
            ok += (await _call(app, key, bodies[i % len(bodies)]))[0] == 200
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
        print(f"answered {ok}")


def _settle_collector() -> None:
    """What a served process does to its garbage collector once it is up (create_served_app), so the
    count is a served request's; a checkout from before `settle_collector` (`--root`) froze only."""
    try:
        from stateset_gateway.app import settle_collector
    except ImportError:
        gc.collect()
        gc.freeze()
        return
    settle_collector()


def count(shape: Any, requests: int, url: str, key: str, root: Path | None) -> float:
    """Instructions per request (millions) for `shape`, in a child under callgrind."""
    spec = {"query": shape.gateway, "variables": dict(shape.variables or {}), "by_order_id": shape.by_order_id,
            "requests": requests, "url": url, "key": key}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = {**os.environ, "PYTHONPATH": str((root or Path.cwd()).resolve())}
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable,
             str(Path(__file__).resolve()), "--child", orjson.dumps(spec).decode()],
            capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or f"answered {requests}" not in done.stdout:
            raise SystemExit(f"shape {shape.name}: the child failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
        assert totals is not None
        return int(totals.group(1)) / requests / 1e6


async def _prepare(url: str | None, admin: str) -> tuple[str, str, Any]:
    """The database to measure on (a new seeded one unless `url`) and an admin API key for it."""
    from bench import peer_db
    from bench.nested_inprocess import seeded_database
    from stateset_gateway.auth.api_keys import create_api_key
    from stateset_gateway.config import load_settings
    from stateset_gateway.db.demo import SeedSize
    from stateset_gateway.db.engine import Database

    stack = contextlib.AsyncExitStack()
    if url is None:
        url = await stack.enter_async_context(
            seeded_database("postgresql", SeedSize(customers=2_000, products=300, orders=10_000), admin))
        await peer_db.prepare(url)
    db = Database(load_settings(database_url=url))
    key = (await create_api_key(db, name="instructions bench", permissions=["admin:*"])).key
    await db.dispose()
    return url, key, stack


async def run(shapes: Sequence[Any], requests: int | None, url: str | None, admin: str,
              roots: Sequence[Path | None]) -> None:
    url, key, stack = await _prepare(url, admin)
    async with stack:
        names = [str(root) if root else "this checkout" for root in roots]
        print("| shape | requests | " + " | ".join(f"M instructions/request, {n}" for n in names) + " |")
        print("|---|---|" + "---|" * len(roots))
        for shape in shapes:
            n = requests or DEFAULT_REQUESTS.get(shape.name, 30)
            figures = [await asyncio.to_thread(count, shape, n, url, key, root) for root in roots]
            print(f"| {shape.name} {shape.title} | {n} | " + " | ".join(f"{f:.2f}" for f in figures) + " |",
                  flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None and sys.argv[1:2] == ["--child"]:
        asyncio.run(child(orjson.loads(sys.argv[2])))
        return
    from bench.shapes import SHAPES, select

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(s.name for s in SHAPES), help="`all` or e.g. 1,2,3")
    parser.add_argument("--requests", type=int, default=None, help="counted requests per shape")
    parser.add_argument("--database-url", default=None, help="a seeded database to use instead of a new one")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--root", action="append", type=Path, default=[],
                        help="another checkout to count too (repeatable); this one is always counted first")
    opts = parser.parse_args(argv)
    asyncio.run(run(select(opts.shapes), opts.requests, opts.database_url, opts.postgres_admin_url,
                    [None, *opts.root]))


if __name__ == "__main__":
    main()
