"""`python -m bench`: seed a fresh PostgreSQL database, start the gateway, drive six workloads, print a table.

Steps: CREATE DATABASE (a new name per run) -> `stateset-cli seed` (migrates first) -> VACUUM ANALYZE ->
an admin API key -> the bare FastAPI reference (bench/refapp.py) under uvicorn, measured with the floor
request -> the gateway, served as `stateset-cli serve` serves it but wrapped so that responses carry
the SQL statement count (bench/serve.py) -> each workload from a separate load process (bench/load.py)
-> DROP DATABASE (unless --keep).
Everything listens on 127.0.0.1 only; every workload is bounded by a request count and a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import String, cast, func, select

from stateset_gateway.auth.api_keys import create_api_key
from stateset_gateway.config import load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Customer, InventoryBalance, Order, Product
from stateset_gateway.resolvers.pagination import encode_cursor

ROOT = Path(__file__).resolve().parent.parent

SIZES = {
    "default": {"customers": 10_000, "products": 1_000, "orders": 100_000},
    "quick": {"customers": 500, "products": 100, "orders": 5_000},
}

ORDER_FIELDS = """
  id orderNumber status total createdAt
  customer { id email firstName lastName }
  items {
    id sku quantity unitPrice lineTotal
    product { id sku name price inventoryLevels { id onHand reserved available } }
  }
"""
LIST_QUERY = ("query Orders($first: Int!, $after: String) { orders(first: $first, after: $after) {"
              " edges { cursor node {" + ORDER_FIELDS + "} } pageInfo { hasNextPage endCursor } } }")
ONE_QUERY = "query Order($id: ID!) { order(id: $id) {" + ORDER_FIELDS + "} }"
CREATE_MUTATION = ("mutation Create($input: CreateOrderInput!) { createOrder(input: $input) {"
                   " id orderNumber status total items { id productId quantity } } }")
FLOOR_QUERY = "{ __typename }"

WORKLOADS = {
    "ref": "bare FastAPI JSON endpoint (reference)",
    "1": "GraphQL orders(first: 50), nested",
    "2": "GraphQL order(id), nested",
    "3": "REST /orders?limit=50&include_items",
    "4": "GraphQL createOrder (writes)",
    "5": "GraphQL { __typename } (floor)",
    "6": "GraphQL orders deep page, nested",
}
ORDER = ["ref", "5", "1", "2", "3", "6", "4"]


@dataclass
class Options:
    size: str
    customers: int
    products: int
    orders: int
    workers: int
    concurrency: int
    requests: int
    write_requests: int
    seconds: float
    warmup: int
    page_size: int
    deep_offset: int
    workloads: list[str]
    pg_url: str
    db_name: str | None
    skip_seed: bool
    keep: bool
    port: int
    json_out: Path | None
    markdown: bool
    pin: bool = False
    rounds: int = 10
    peer: str | None = None
    shapes: str = "all"


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small data set (500 customers, 100 products, 5,000 orders) and short runs")
    parser.add_argument("--customers", type=int, help="override the data size")
    parser.add_argument("--products", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--concurrency", "-c", type=int, default=8, help="open connections (default 8)")
    parser.add_argument("--requests", "-n", type=int, help="requests per read workload (default 3000; quick 500)")
    parser.add_argument("--write-requests", type=int, help="createOrder requests (default 1000; quick 200)")
    parser.add_argument("--seconds", "-t", type=float, help="time limit per workload (default 20; quick 5)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first (default 100)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--deep-offset", type=int,
                        help="rows before the deep page (default 50,000, at most half the orders)")
    parser.add_argument("--workloads", default="all",
                        help="comma-separated subset of ref,1,2,3,4,5,6 (default all)")
    parser.add_argument("--pg-url", default=os.environ.get("STATESET_BENCH_POSTGRES_URL",
                                                           "postgresql://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server (no database part); default postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", dest="db_name", help="database name (default: a new stateset_bench_<time>)")
    parser.add_argument("--skip-seed", action="store_true",
                        help="use --db as it is (already seeded); note that orders written by an earlier run's "
                             "createOrder workload are the newest, so they make up workload 1's first page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--port", type=int, default=0, help="first port to listen on (default: free ports)")
    parser.add_argument("--json", dest="json_out", type=Path, help="also write the raw results here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--rounds", type=int,
                        help="the reference and the floor are measured in this many alternating rounds, and their "
                             "ratio is the median of the rounds' ratios (default 10; with --peer, every shape, "
                             "default 5)")
    parser.add_argument("--pin", action="store_true",
                        help="run the servers on CPU 0 and the load generator on CPU 1 (steadier ratios on 2 CPUs)")
    add_peer_arguments(parser)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 5 if args.peer else 10

    size = "quick" if args.quick else "default"
    dims = dict(SIZES[size])
    for key in dims:
        if getattr(args, key) is not None:
            dims[key] = getattr(args, key)
    if args.skip_seed and not args.db_name:
        parser.error("--skip-seed needs --db NAME")
    workloads = ORDER if args.workloads == "all" else [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    for name in ("workers", "concurrency", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 1 <= args.page_size <= 100:
        parser.error("--page-size must be between 1 and 100")
    deep = args.deep_offset if args.deep_offset is not None else min(50_000, dims["orders"] // 2)
    return Options(
        size=size, customers=dims["customers"], products=dims["products"], orders=dims["orders"],
        workers=args.workers, concurrency=args.concurrency,
        requests=args.requests or (500 if args.quick else 3000),
        write_requests=args.write_requests or (200 if args.quick else 1000),
        seconds=args.seconds or (5.0 if args.quick else 20.0),
        warmup=args.warmup, page_size=args.page_size, deep_offset=deep,
        workloads=[w for w in ORDER if w in workloads], pg_url=args.pg_url.rstrip("/"), db_name=args.db_name,
        skip_seed=args.skip_seed, keep=args.keep or args.skip_seed, port=args.port, json_out=args.json_out,
        markdown=args.markdown,
        pin=args.pin,
        rounds=args.rounds,
        peer=args.peer,
        shapes=args.shapes,
    )


def add_peer_arguments(parser: argparse.ArgumentParser) -> None:
    """`--peer`: a different run, against another server on the same database (bench/peer.py)."""
    parser.add_argument("--peer", choices=["postgraphile"],
                        help="instead of the workloads, compare the gateway with this server on the same database, "
                             "shape by shape (needs node and npm; see bench/peer/README.md)")
    parser.add_argument("--shapes", default="all",
                        help="with --peer: comma-separated subset of the shapes 1-7 (default all)")


# ---- results and the table -----------------------------------------------------------------------

@dataclass
class Result:
    workload: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    mean_ms: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    statements: float | None = None
    checkouts: float | None = None
    peak_rss_mb: float | None = None
    server_cpu_pct: float | None = None
    client_cpu_pct: float | None = None
    response_kb: float | None = None
    error_samples: list[str] = field(default_factory=list)
    round_rps: list[float] = field(default_factory=list)

    @classmethod
    def from_load(cls, workload: str, raw: dict[str, Any]) -> Result:
        return cls(workload=workload, requests=raw["requests"], seconds=raw["seconds"], rps=raw["rps"],
                   mean_ms=raw["mean_ms"], p50_ms=raw["p50_ms"], p95_ms=raw["p95_ms"], p99_ms=raw["p99_ms"],
                   errors=raw["errors"], statements=raw.get("statements_per_request"),
                   checkouts=raw.get("checkouts_per_request"), client_cpu_pct=raw.get("client_cpu_pct"),
                   response_kb=raw.get("bytes_per_response", 0) / 1024,
                   error_samples=raw.get("error_samples", []))


def combine_rounds(rounds: Sequence[Result]) -> Result:
    """One row for a workload measured in several rounds: the median round for rates and latencies
    (a round slowed by the machine's other work does not drag the figure), sums for counts, the
    highest peak RSS, and every round's req/s kept for the paired ratio."""
    def median(values: Sequence[float | None]) -> float | None:
        known = sorted(v for v in values if v is not None)
        return statistics.median(known) if known else None

    first = rounds[0]
    combined = Result(first.workload, requests=sum(r.requests for r in rounds),
                      seconds=sum(r.seconds for r in rounds), errors=sum(r.errors for r in rounds),
                      error_samples=[s for r in rounds for s in r.error_samples][:5],
                      round_rps=[r.rps for r in rounds])
    for name in ("rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms"):
        setattr(combined, name, median([getattr(r, name) for r in rounds]) or 0.0)
    for name in ("statements", "checkouts", "server_cpu_pct", "client_cpu_pct", "response_kb"):
        setattr(combined, name, median([getattr(r, name) for r in rounds]))
    peaks = [r.peak_rss_mb for r in rounds if r.peak_rss_mb is not None]
    combined.peak_rss_mb = max(peaks) if peaks else None
    return combined


def paired_ratios(numerator: Result, denominator: Result) -> list[float]:
    """Round-by-round req/s ratios of two workloads measured in alternating rounds."""
    return [a / b for a, b in zip(numerator.round_rps, denominator.round_rps) if b]


COLUMNS = ["workload", "req/s", "p50 ms", "p95 ms", "p99 ms", "SQL/req", "conn/req", "errors", "peak RSS MB",
           "server CPU %", "client CPU %", "KB/resp"]


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    return [[f"{r.workload} {WORKLOADS.get(r.workload, '')}".strip(), _num(r.rps, 0), _num(r.p50_ms, 2),
             _num(r.p95_ms, 2), _num(r.p99_ms, 2), _num(r.statements, 2), _num(r.checkouts, 2), str(r.errors),
             _num(r.peak_rss_mb, 0), _num(r.server_cpu_pct, 0), _num(r.client_cpu_pct, 0), _num(r.response_kb, 1)]
            for r in results]


def format_table(results: Sequence[Result], *, markdown: bool = False) -> str:
    rows = table_rows(results)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(col), *(len(row[i]) for row in rows)) if rows else len(col) for i, col in enumerate(COLUMNS)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def ratios(results: Sequence[Result]) -> list[tuple[str, float | None, str]]:
    """(what, value, target) for the issue's comparisons; time per request = 1 / req/s at equal concurrency."""
    by = {r.workload: r for r in results}

    def per_request(w: str) -> float | None:
        r = by.get(w)
        return 1.0 / r.rps if r and r.rps else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    floor_ratio = ratio(by["5"].rps if "5" in by else None, by["ref"].rps if "ref" in by else None)
    if "5" in by and "ref" in by and paired_ratios(by["5"], by["ref"]):
        floor_ratio = statistics.median(paired_ratios(by["5"], by["ref"]))
    return [
        ("time/request: nested list (1) / floor (5)", ratio(per_request("1"), per_request("5")), "(informative)"),
        ("time/request: REST (3) / GraphQL (1)", ratio(per_request("3"), per_request("1")), "<= 1.2"),
        ("time/request: deep page (6) / first page (1)", ratio(per_request("6"), per_request("1")), "<= 1.5"),
        ("req/s: floor (5) / bare FastAPI (ref)", floor_ratio, ">= 0.80"),
    ]


def format_ratios(results: Sequence[Result], *, markdown: bool = False) -> str:
    out = []
    for what, value, target in ratios(results):
        shown = "-" if value is None else f"{value:.2f}"
        out.append(f"| {what} | {shown} | {target} |" if markdown else f"{what:<48} {shown:>6}   target {target}")
    if markdown:
        out = ["| ratio | measured | target |", "|---|---|---|", *out]
    by = {r.workload: r for r in results}
    if "5" in by and "ref" in by and paired_ratios(by["5"], by["ref"]):
        rounds = paired_ratios(by["5"], by["ref"])
        out.append(("\n" if markdown else "")
                   + f"floor / reference by round ({len(rounds)} alternating rounds; the ratio above is their "
                   f"median): {', '.join(f'{r:.2f}' for r in rounds)}")
    return "\n".join(out)


# ---- processes ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss(pids: Sequence[int]) -> None:
    """`5` in clear_refs resets VmHWM to the current RSS (Linux 4.0+), so each workload gets its own peak."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def peak_rss_mb(pids: Sequence[int]) -> float:
    """Sum of the server processes' VmHWM (peak resident set)."""
    return sum(_status_kb(pid, "VmHWM") for pid in pids) / 1024


# CPU sets for --pin: {"server": {0}, "load": {1}}; empty means the scheduler decides.
AFFINITY: dict[str, set[int]] = {}


def _pinned(role: str) -> Any:
    """A preexec_fn that moves the child onto its role's CPUs, or None when not pinning."""
    cpus = AFFINITY.get(role)
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


class Server:
    """A server subprocess in its own process group, stopped by its own id (never by name)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, health: str, log: Path) -> None:
        self.name, self.port, self.health = name, port, health
        self.log = log
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_pinned("server"))

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}:\n"
                                   + self.log.read_text()[-3000:])
            try:
                if self.answers():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} did not answer {self.health} within {timeout:.0f}s; see {self.log}")

    def answers(self) -> bool:
        """Whether the server is ready: its health route answers 200."""
        return httpx.get(f"http://127.0.0.1:{self.port}{self.health}", timeout=2).status_code == 200

    @property
    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


# ---- requests -------------------------------------------------------------------------------------

def http_request(method: str, port: int, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1").decode("latin-1") + body.decode("latin-1")


def graphql_request(port: int, api_key: str | None, query: str, variables: dict[str, Any] | None = None) -> str:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return http_request("POST", port, "/graphql", body=json.dumps(payload).encode(), headers=headers)


def run_load(requests: list[str], port: int, opts: Options, *, max_requests: int, graphql: bool,
             ok_status: Sequence[int] = (200,), warmup: int | None = None,
             server_pids: Sequence[int] = (), seconds: float | None = None) -> dict[str, Any]:
    seconds = seconds or opts.seconds
    spec = {"host": "127.0.0.1", "port": port, "requests": requests, "concurrency": opts.concurrency,
            "server_pids": list(server_pids),
            "max_requests": max_requests, "max_seconds": seconds,
            "warmup": opts.warmup if warmup is None else warmup, "ok_status": list(ok_status), "graphql": graphql}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        out = subprocess.run([sys.executable, "-m", "bench.load", fh.name], cwd=ROOT, capture_output=True,
                             text=True, timeout=seconds * 3 + 120, check=False, preexec_fn=_pinned("load"))
    finally:
        os.unlink(fh.name)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


# ---- the database ---------------------------------------------------------------------------------

async def _admin(pg_url: str, sql: str) -> None:
    conn = await asyncpg.connect(pg_url + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class Fixtures:
    api_key: str
    order_ids: list[str]
    customer_ids: list[str]
    stocked_products: list[tuple[str, int]]
    deep_cursor: str
    deep_first_id: str


async def prepare_fixtures(database_url: str, deep_offset: int) -> Fixtures:
    db = Database(load_settings(database_url=database_url))
    try:
        issued = await create_api_key(db, name=f"bench {datetime.now(UTC):%Y-%m-%d %H:%M}", permissions=["admin:*"])
        async with db.reader() as session:
            order_ids = [str(i) for i in (await session.scalars(
                select(Order.id).order_by(func.md5(cast(Order.id, String))).limit(1000))).all()]
            customer_ids = [str(i) for i in (await session.scalars(
                select(Customer.id).order_by(Customer.id).limit(500))).all()]
            available = func.sum(InventoryBalance.on_hand - InventoryBalance.reserved)
            stocked = [(str(pid), int(avail)) for pid, avail in (await session.execute(
                select(InventoryBalance.product_id, available)
                .join(Product, Product.id == InventoryBalance.product_id)
                .where(Product.is_active.is_(True), Product.currency == "USD")
                .group_by(InventoryBalance.product_id).order_by(available.desc()).limit(200))).all()]
            created_at, order_id = (await session.execute(
                select(Order.created_at, Order.id).order_by(Order.created_at.desc(), Order.id.desc())
                .offset(deep_offset - 1).limit(1))).one()
            deep_first = (await session.execute(
                select(Order.id).order_by(Order.created_at.desc(), Order.id.desc()).offset(deep_offset).limit(1)
            )).scalar_one()
        return Fixtures(api_key=issued.key, order_ids=order_ids, customer_ids=customer_ids,
                        stocked_products=stocked, deep_cursor=encode_cursor(created_at, order_id),
                        deep_first_id=str(deep_first))
    finally:
        await db.dispose()


# ---- the run --------------------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def seed_database(opts: Options, database_url: str, env: dict[str, str]) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "stateset_gateway.cli", "seed", "--customers", str(opts.customers),
                    "--products", str(opts.products), "--orders", str(opts.orders)],
                   cwd=ROOT, env={**env, "APP__DATABASE_URL": database_url}, check=True,
                   stdout=subprocess.DEVNULL)
    log(f"seeded in {time.monotonic() - started:.0f}s; VACUUM ANALYZE")
    asyncio.run(_admin_db(database_url, "VACUUM ANALYZE"))


async def _admin_db(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def measure(server: Server, workload: str, requests: list[str], opts: Options, *, max_requests: int,
            graphql: bool, ok_status: Sequence[int] = (200,), seconds: float | None = None) -> Result:
    pids = server.pids
    reset_peak_rss(pids)
    raw = run_load(requests, server.port, opts, max_requests=max_requests, graphql=graphql, ok_status=ok_status,
                   server_pids=pids, seconds=seconds)
    result = Result.from_load(workload, raw)
    result.server_cpu_pct = raw.get("server_cpu_pct")
    result.peak_rss_mb = peak_rss_mb(server.pids)
    log(f"workload {workload}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, errors {result.errors}"
        + (f" e.g. {result.error_samples[0][:200]}" if result.error_samples else ""))
    return result


def measure_in_rounds(plan: Sequence[tuple[str, Server, str]], opts: Options) -> list[Result]:
    """The reference and the floor, in `opts.rounds` alternating rounds (the order flips every round).

    Both are short and CPU-bound, so one long run of each mostly measures what else the machine was
    doing at the time: on a shared 2-CPU VM the same server's CPU per request moved by 1.5x between
    back-to-back runs. Interleaving exposes both to the same conditions, and the ratio is taken round
    by round (see `ratios`)."""
    per_round: dict[str, list[Result]] = {name: [] for name, _, _ in plan}
    seconds = max(opts.seconds / opts.rounds, 2.0)
    max_requests = opts.requests * 3  # per round: rounds are meant to be bound by time
    for i in range(opts.rounds):
        for name, server, request in (plan if i % 2 == 0 else list(reversed(plan))):
            per_round[name].append(measure(server, name, [request], opts, max_requests=max_requests,
                                           graphql=True, seconds=seconds))
    return [combine_rounds(per_round[name]) for name, _, _ in plan]


def statements_by_page_size(port: int, api_key: str) -> list[tuple[str, int, int | None]]:
    """One request each at several page sizes: the statement count must not grow with the page."""
    rows = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": api_key}, timeout=30) as client:
        for size in (10, 50, 100):
            r = client.post("/graphql", json={"query": LIST_QUERY, "variables": {"first": size}})
            rows.append(("1 GraphQL orders", size, _header_int(r)))
        for size in (10, 50, 100):
            r = client.get("/api/v1/orders", params={"limit": size, "include_items": "true"})
            rows.append(("3 REST orders", size, _header_int(r)))
    return rows


def _header_int(response: Any) -> int | None:
    value = response.headers.get("x-bench-sql-statements")
    if response.status_code != 200 or value is None:
        return None
    return int(value)


def check_deep_cursor(port: int, fx: Fixtures) -> None:
    r = httpx.post(f"http://127.0.0.1:{port}/graphql", headers={"X-API-Key": fx.api_key}, timeout=30,
                   json={"query": "query($after: String) { orders(first: 1, after: $after) { nodes { id } } }",
                         "variables": {"after": fx.deep_cursor}})
    got = r.json()["data"]["orders"]["nodes"][0]["id"]
    if got != fx.deep_first_id:
        raise RuntimeError(f"deep cursor check failed: expected {fx.deep_first_id}, got {got}")


def create_order_requests(port: int, fx: Fixtures, count: int) -> list[str]:
    """Distinct createOrder bodies: two stocked products, one unit each, rotating customers and products,
    so concurrent writers rarely wait on the same inventory row."""
    products = fx.stocked_products
    if len(products) < 2:
        raise RuntimeError("not enough stocked products for the write workload")
    requests = []
    for i in range(count):
        a, b = products[i % len(products)][0], products[(i * 7 + 1) % len(products)][0]
        if a == b:
            b = products[(i + 1) % len(products)][0]
        variables = {"input": {"customerId": fx.customer_ids[i % len(fx.customer_ids)],
                               "items": [{"productId": a, "quantity": 1}, {"productId": b, "quantity": 1}]}}
        requests.append(graphql_request(port, fx.api_key, CREATE_MUTATION, variables))
    return requests


def bench_environment() -> dict[str, str]:
    """The servers' environment: this one without APP__ overrides, in development, able to import bench."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP__")}
    env.update({"APP_ENV": "development", "PYTHONPATH": str(ROOT)})
    return env


@contextmanager
def bench_database(opts: Options, db_name: str, env: dict[str, str]) -> Iterator[str]:
    """The URL of the benchmark's database: created and seeded here (unless --skip-seed, which uses
    `db_name` as it is), dropped afterwards unless --keep."""
    database_url = f"{opts.pg_url}/{db_name}"
    created = False
    try:
        if not opts.skip_seed:
            log(f"creating database {db_name}; seeding {opts.customers:,} customers, {opts.products:,} products, "
                f"{opts.orders:,} orders")
            asyncio.run(_admin(opts.pg_url, f'CREATE DATABASE "{db_name}"'))
            created = True
            seed_database(opts, database_url, env)
        yield database_url
    finally:
        if created and not opts.keep:
            asyncio.run(_admin(opts.pg_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            log(f"dropped database {db_name}")
        elif created or opts.db_name:
            log(f"kept database {db_name}")


def run(opts: Options) -> int:
    stamp = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    if opts.pin and (os.cpu_count() or 1) >= 2:
        AFFINITY.update(server={0}, load={1})
    workdir = Path(tempfile.mkdtemp(prefix="stateset-bench-"))
    env = bench_environment()
    results: list[Result] = []
    page_probe: list[tuple[str, int, int | None]] = []
    with bench_database(opts, opts.db_name or f"stateset_bench_{stamp:%Y%m%d_%H%M%S}", env) as database_url:
        fx = asyncio.run(prepare_fixtures(database_url, opts.deep_offset))

        port = (opts.port + 1) if opts.port else free_port()
        gw_env = {**env, "APP__DATABASE_URL": database_url, "APP__HOST": "127.0.0.1", "APP__PORT": str(port),
                  "APP__SERVER__WORKERS": str(opts.workers), "APP__RATE_LIMIT": "1000000000/minute",
                  "APP__GRAPHQL__COST_BUDGET": "off"}
        gateway = Server("gateway", [sys.executable, "-m", "bench.serve"], gw_env, port,
                         "/health", workdir / "gateway.log")
        ref: Server | None = None
        try:
            key = fx.api_key
            plan: list[tuple[str, Server, str]] = []
            if "ref" in opts.workloads:
                ref_port = opts.port or free_port()
                ref = Server("reference", [sys.executable, "-m", "uvicorn", "bench.refapp:app", "--host", "127.0.0.1",
                                           "--port", str(ref_port), "--workers", str(opts.workers), "--no-access-log",
                                           "--log-level", "warning"],
                             env, ref_port, "/health", workdir / "reference.log")
                ref.wait_ready()
                plan.append(("ref", ref, http_request(
                    "POST", ref_port, "/graphql", body=json.dumps({"query": FLOOR_QUERY}).encode(),
                    headers={"Content-Type": "application/json", "Accept": "application/json", "X-API-Key": key})))
            gateway.wait_ready()
            if "5" in opts.workloads:
                plan.append(("5", gateway, graphql_request(port, key, FLOOR_QUERY)))
            if plan:
                results.extend(measure_in_rounds(plan, opts))
            if ref is not None:
                ref.stop()
            for workload in opts.workloads:
                if workload == "1":
                    reqs = [graphql_request(port, key, LIST_QUERY, {"first": opts.page_size})]
                    results.append(measure(gateway, "1", reqs, opts, max_requests=opts.requests, graphql=True))
                elif workload == "2":
                    reqs = [graphql_request(port, key, ONE_QUERY, {"id": oid}) for oid in fx.order_ids]
                    results.append(measure(gateway, "2", reqs, opts, max_requests=opts.requests, graphql=True))
                elif workload == "3":
                    reqs = [http_request("GET", port, f"/api/v1/orders?limit={opts.page_size}&include_items=true",
                                         headers={"Accept": "application/json", "X-API-Key": key})]
                    results.append(measure(gateway, "3", reqs, opts, max_requests=opts.requests, graphql=False))
                elif workload == "6":
                    check_deep_cursor(port, fx)
                    reqs = [graphql_request(port, key, LIST_QUERY, {"first": opts.page_size,
                                                                     "after": fx.deep_cursor})]
                    results.append(measure(gateway, "6", reqs, opts, max_requests=opts.requests, graphql=True))
                elif workload == "4":
                    total = opts.write_requests + opts.warmup
                    reqs = create_order_requests(port, fx, total)
                    results.append(measure(gateway, "4", reqs, opts, max_requests=opts.write_requests,
                                           graphql=True))
            if {"1", "3"} & set(opts.workloads):
                page_probe = statements_by_page_size(port, key)
        finally:
            if ref is not None:
                ref.stop()
            gateway.stop()

    header = (f"{stamp:%Y-%m-%d %H:%M} UTC; data: {opts.customers:,} customers, {opts.products:,} products, "
              f"{opts.orders:,} orders; {opts.workers} worker(s); concurrency {opts.concurrency}; "
              f"up to {opts.requests:,} requests (writes {opts.write_requests:,}) or "
              f"{opts.seconds:g}s per workload, the reference and floor in {opts.rounds} alternating rounds of "
              f"{max(opts.seconds / opts.rounds, 2.0):g}s or {opts.requests * 3:,} requests; "
              f"page size {opts.page_size}; deep page after {opts.deep_offset:,} rows; "
              f"{os.cpu_count()} CPUs, load average {load_before:.1f} at start")
    print(header)
    print()
    print(format_table(results, markdown=opts.markdown))
    print()
    print(format_ratios(results, markdown=opts.markdown))
    if page_probe:
        print()
        print("SQL statements per request by page size: "
              + "; ".join(f"{name} first/limit={size}: {count}" for name, size, count in page_probe))
    if opts.json_out:
        write_json(opts.json_out, {"header": header, "results": [vars(r) for r in results],
                                   "statements_by_page_size": page_probe})
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\nworkload {r.workload}: {r.errors} error(s), e.g. {r.error_samples[:1]}", file=sys.stderr)
    return 1 if failed else 0


def write_json(path: Path, results: Any) -> None:
    """`--json`'s file, its folder made first: bench/out/, the documented place, is not in a checkout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.peer:
        from bench.peer import run_peer  # bench.peer builds on this module

        return run_peer(opts)
    return run(opts)
