"""Server CPU of the nested orders page, in process, per executor: `python -m bench.nested_inprocess`.

The bench harness's LIST_QUERY (orders with their customer, items, products and stock levels) at
`first: 50`, sent N times straight to the ASGI app (no network, no server process), against a seeded
SQLite database and a seeded PostgreSQL one. For each executor ("planned", and graphql-core as
"reference") it prints the CPU time per request (time.process_time, median and mean over N) and how
many objects the cyclic garbage collector finds per request (collection disabled while the N
requests run, then one gc.collect()): the cycles a request leaves behind.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness import LIST_QUERY
from stateset_gateway.app import create_app
from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from stateset_gateway.db.demo import SeedSize, seed

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
EXECUTORS = ("reference", "planned")


@asynccontextmanager
async def seeded_database(kind: str, size: SeedSize, postgres_admin_url: str) -> AsyncIterator[str]:
    """A new database of `kind`, migrated and seeded; dropped afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'nested.db'}"
        else:
            name = f"stateset_nested_{uuid.uuid4().hex[:10]}"
            admin = await asyncpg.connect(postgres_admin_url, timeout=5)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
        try:
            db = Database(load_settings(database_url=url))
            await migrate.upgrade(db.write_engine)
            await seed(db, size)
            await db.dispose()
            yield url
        finally:
            if kind != "sqlite":
                admin = await asyncpg.connect(postgres_admin_url, timeout=5)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


async def measure(url: str, executor: str, key: str, requests: int, first: int) -> dict[str, float]:
    settings = load_settings(database_url=url, rate_limit="off",
                             graphql={"executor": executor, "cost_budget": "off"},
                             logging={"level": "WARNING"})
    app = create_app(settings)
    body = {"query": LIST_QUERY, "variables": {"first": first}}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     headers={"X-API-Key": key}) as client:
            for _ in range(20):  # warm: plans, prepared documents, connection pool
                response = await client.post("/graphql", json=body)
                assert len(response.json()["data"]["orders"]["edges"]) == first, response.text[:500]
            gc.collect()
            gc.disable()
            try:
                cpu = []
                for _ in range(requests):
                    started = time.process_time()
                    await client.post("/graphql", json=body)
                    cpu.append(time.process_time() - started)
                garbage = gc.collect()
            finally:
                gc.enable()
    return {"median_ms": statistics.median(cpu) * 1000, "mean_ms": statistics.fmean(cpu) * 1000,
            "gc_objects_per_request": garbage / requests}


async def run(kinds: Sequence[str], requests: int, first: int, size: SeedSize,
              postgres_admin_url: str) -> None:
    print(f"LIST_QUERY, first: {first}, {requests} requests per executor; seed {size}")
    print(f"{'database':<11} {'executor':<10} {'CPU median ms':>14} {'CPU mean ms':>12} "
          f"{'gc objects/request':>19}")
    for kind in kinds:
        async with seeded_database(kind, size, postgres_admin_url) as url:
            db = Database(load_settings(database_url=url))
            key = (await create_api_key(db, name="nested bench", permissions=["admin:*"])).key
            await db.dispose()
            for executor in EXECUTORS:
                result: dict[str, Any] = await measure(url, executor, key, requests, first)
                print(f"{kind:<11} {executor:<10} {result['median_ms']:>14.2f} {result['mean_ms']:>12.2f} "
                      f"{result['gc_objects_per_request']:>19.0f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    opts = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if opts.database == "both" else (opts.database,)
    size = SeedSize(customers=500, products=100, orders=2_000)
    asyncio.run(run(kinds, opts.requests, opts.first, size, opts.postgres_admin_url))


if __name__ == "__main__":
    main()
