"""Server CPU of the peer comparison's shapes, in process: `python -m bench.shapes_inprocess`.

Each shape of bench/shapes.py (the gateway's side) is sent N times straight to the ASGI app (no
network, no server process) against a seeded SQLite database and a seeded PostgreSQL one, with the
planned executor. For each it prints the CPU time per request (time.process_time: median and mean
over N, which a loaded machine disturbs far less than wall time), the SQL statements and pool
check-outs per request (the bench probe's headers), and how many objects the cyclic collector finds
per request (collection disabled while the N requests run, then one gc.collect()).

On PostgreSQL the returns the peer run adds (bench/peer_db.py) are added too, so shape 6 has rows;
the SQLite database has none, and shape 6 is left out there.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench import peer_db
from bench.nested_inprocess import POSTGRES_ADMIN_URL, seeded_database
from bench.probe import CHECKOUT_HEADER, HEADER, StatementCounter
from bench.shapes import SHAPES, Shape, select
from stateset_gateway.app import create_app
from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.config import load_settings
from stateset_gateway.db.demo import SeedSize
from stateset_gateway.db.engine import Database


async def _order_ids(client: httpx.AsyncClient, count: int) -> list[str]:
    body = (await client.post("/graphql", json={"query": f"{{ orders(first: {count}) {{ nodes {{ id }} }} }}"})).json()
    return [node["id"] for node in body["data"]["orders"]["nodes"]]


async def measure(url: str, key: str, shapes: Sequence[Shape], requests: int,
                  executor: str) -> list[dict[str, Any]]:
    settings = load_settings(database_url=url, rate_limit="off",
                             graphql={"executor": executor, "cost_budget": "off"},
                             logging={"level": "WARNING"})
    app = create_app(settings)
    results = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=StatementCounter(app)),
                                     base_url="http://bench", headers={"X-API-Key": key}) as client:
            ids = await _order_ids(client, 50)
            for shape in shapes:
                def body(i: int, shape: Shape = shape) -> dict[str, Any]:
                    variables = {"id": ids[i % len(ids)]} if shape.by_order_id else dict(shape.variables or {})
                    return {"query": shape.gateway, "variables": variables}

                for i in range(20):  # warm: plans, prepared documents, connection pool
                    response = await client.post("/graphql", json=body(i))
                    answer = response.json()
                    assert not answer.get("errors") and answer.get("data"), response.text[:500]
                gc.collect()
                gc.disable()
                try:
                    cpu = []
                    for i in range(requests):
                        started = time.process_time()
                        response = await client.post("/graphql", json=body(i))
                        cpu.append(time.process_time() - started)
                    garbage = gc.collect()
                finally:
                    gc.enable()
                results.append({
                    "shape": shape.name, "median_ms": statistics.median(cpu) * 1000,
                    "mean_ms": statistics.fmean(cpu) * 1000,
                    "statements": int(response.headers[HEADER.decode()]),
                    "checkouts": int(response.headers[CHECKOUT_HEADER.decode()]),
                    "gc_objects_per_request": garbage / requests,
                })
    return results


async def run(kinds: Sequence[str], shapes: Sequence[Shape], requests: int, size: SeedSize,
              postgres_admin_url: str, executor: str) -> None:
    print(f"{requests} requests per shape, {executor} executor; seed {size}")
    print(f"{'database':<11} {'shape':<6} {'CPU median ms':>14} {'CPU mean ms':>12} {'SQL/req':>8} "
          f"{'checkouts/req':>14} {'gc objects/request':>19}")
    for kind in kinds:
        async with seeded_database(kind, size, postgres_admin_url) as url:
            if kind == "postgresql":
                await peer_db.prepare(url)
            db = Database(load_settings(database_url=url))
            key = (await create_api_key(db, name="shapes bench", permissions=["admin:*"])).key
            await db.dispose()
            wanted = [s for s in shapes if kind == "postgresql" or s.name != "6"]
            for result in await measure(url, key, wanted, requests, executor):
                print(f"{kind:<11} {result['shape']:<6} {result['median_ms']:>14.3f} {result['mean_ms']:>12.3f} "
                      f"{result['statements']:>8} {result['checkouts']:>14} "
                      f"{result['gc_objects_per_request']:>19.1f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--shapes", default=",".join(s.name for s in SHAPES), help="`all` or e.g. 1,2,3")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--executor", choices=("planned", "reference"), default="planned")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    opts = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if opts.database == "both" else (opts.database,)
    size = SeedSize(customers=500, products=100, orders=2_000)
    asyncio.run(run(kinds, select(opts.shapes), opts.requests, size, opts.postgres_admin_url, opts.executor))


if __name__ == "__main__":
    main()
