"""Memory of a long run of nested pages, in process: `python -m bench.rss_inprocess`.

Sends the nested orders page (bench workload 1, `first: 50`) N times (default 10,000) straight to the
ASGI app on a seeded database, `--concurrency` at a time, and prints the process's resident set
(VmRSS) after the warm-up and every tenth of the run, its peak (VmHWM), and the growth from the
first tenth to the end: what a request leaves behind that is never freed. The collector runs as
it normally does.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.harness import LIST_QUERY
from bench.nested_inprocess import POSTGRES_ADMIN_URL, seeded_database
from stateset_gateway.app import create_app
from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.config import load_settings
from stateset_gateway.db.demo import SeedSize
from stateset_gateway.db.engine import Database


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


async def run(kind: str, requests: int, concurrency: int, postgres_admin_url: str) -> None:
    size = SeedSize(customers=500, products=100, orders=2_000)
    async with seeded_database(kind, size, postgres_admin_url) as url:
        db = Database(load_settings(database_url=url))
        key = (await create_api_key(db, name="rss bench", permissions=["admin:*"])).key
        await db.dispose()
        settings = load_settings(database_url=url, rate_limit="off", graphql={"cost_budget": "off"},
                                 logging={"level": "WARNING"})
        app = create_app(settings)
        body = {"query": LIST_QUERY, "variables": {"first": 50}}
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                         headers={"X-API-Key": key}) as client:
                async def one() -> None:
                    response = await client.post("/graphql", json=body)
                    assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]

                for _ in range(50):
                    await one()
                print(f"{kind}: {requests} nested pages, {concurrency} at a time; seed {size}")
                print(f"after warm-up: RSS {_status_mb('VmRSS'):.1f} MB")
                step = max(1, requests // 10)
                first_tenth = None
                done = 0
                while done < requests:
                    batch = min(step, requests - done)
                    for start in range(0, batch, concurrency):
                        await asyncio.gather(*(one() for _ in range(min(concurrency, batch - start))))
                    done += batch
                    rss = _status_mb("VmRSS")
                    first_tenth = rss if first_tenth is None else first_tenth
                    print(f"after {done:>6}: RSS {rss:.1f} MB")
                print(f"peak RSS (VmHWM) {_status_mb('VmHWM'):.1f} MB; growth from the first tenth to the end "
                      f"{_status_mb('VmRSS') - (first_tenth or 0):+.1f} MB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL)
    opts = parser.parse_args(argv)
    asyncio.run(run(opts.database, opts.requests, opts.concurrency, opts.postgres_admin_url))


if __name__ == "__main__":
    main()
