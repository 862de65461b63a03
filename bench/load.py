"""The load generator: a separate process that drives one workload over loopback and reports JSON.

Why a hand-written HTTP/1.1 client on raw asyncio streams (uvloop when installed) rather than httpx or
wrk: httpx spends far more CPU per request than the servers under test, so on a 2-core machine it
would measure itself; wrk is not installed by default, and a workload here needs per-request bodies
(mutations on rotating products), a check of every GraphQL body for `errors`, and a per-response
header (the server's SQL statement count) summed over the run, which wrk can only do through a Lua
response callback that slows it down. This client pre-encodes every request, keeps one keep-alive
connection per unit of concurrency, and reads responses with a minimal parser (Content-Length or
chunked). It reports its own CPU time, so a run can show whether the client or the server was the
bottleneck; the bare FastAPI reference is driven by this same client, so ratios against it are fair.

Usage (the harness does this): `python -m bench.load SPEC.json` prints one JSON object on stdout.
SPEC: {"host", "port", "requests": [latin-1 request strings], "concurrency", "max_requests",
"max_seconds", "warmup", "ok_status": [200], "graphql": bool, "server_pids": [...]}
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    statements: int = 0
    checkouts: int = 0
    counted: int = 0
    bytes_in: int = 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the server processes, from /proc (the measured window only)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
    length = headers.get(b"content-length")
    if length is not None:
        body = await reader.readexactly(int(length)) if int(length) else b""
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = b""
    return status, headers, body


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    requests = [r.encode("latin-1") for r in spec["requests"]]
    concurrency = int(spec["concurrency"])
    max_requests = int(spec["max_requests"])
    max_seconds = float(spec["max_seconds"])
    warmup = int(spec.get("warmup", 0))
    ok_status = set(spec.get("ok_status", [200]))
    graphql = bool(spec.get("graphql", False))
    count_header = b"x-bench-sql-statements"
    host, port = spec["host"], int(spec["port"])

    tally = Tally()
    state = {"issued": 0, "limit": warmup, "deadline": time.monotonic() + max_seconds, "measuring": False}

    def next_request() -> bytes | None:
        if state["issued"] >= state["limit"] or time.monotonic() > state["deadline"]:
            return None
        request = requests[state["issued"] % len(requests)]
        state["issued"] += 1
        return request

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (request := next_request()) is not None:
                started = time.perf_counter_ns()
                writer.write(request)
                status, headers, body = await _read_response(reader)
                elapsed = time.perf_counter_ns() - started
                if headers.get(b"connection", b"").lower() == b"close":
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                if not state["measuring"]:
                    continue
                tally.latencies_ns.append(elapsed)
                tally.bytes_in += len(body)
                if status not in ok_status or (graphql and b'"errors"' in body):
                    tally.errors += 1
                    if len(tally.error_samples) < 3:
                        tally.error_samples.append(f"{status} {body[:300].decode('utf-8', 'replace')}")
                counted = headers.get(count_header)
                if counted is not None:
                    tally.statements += int(counted)
                    tally.checkouts += int(headers.get(b"x-bench-db-checkouts", b"0"))
                    tally.counted += 1
        finally:
            writer.close()

    if warmup:  # caches, pooled connections, first-request imports: not measured
        await asyncio.gather(*(worker() for _ in range(min(concurrency, warmup))))
    state.update(issued=0, limit=max_requests, measuring=True)
    server_pids = [int(pid) for pid in spec.get("server_pids", [])]
    server0 = cpu_seconds(server_pids)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    state["deadline"] = started + max_seconds
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.monotonic() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu = cpu_seconds(server_pids) - server0
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)

    lat = sorted(tally.latencies_ns)
    done = len(lat)

    def pct(p: float) -> float:
        if not lat:
            return 0.0
        return lat[min(done - 1, max(0, math.ceil(p / 100 * done) - 1))] / 1e6  # nearest rank

    return {
        "requests": done,
        "seconds": wall,
        "rps": done / wall if wall else 0.0,
        "mean_ms": (sum(lat) / done / 1e6) if done else 0.0,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": lat[-1] / 1e6 if lat else 0.0,
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "statements_per_request": (tally.statements / tally.counted) if tally.counted else None,
        "checkouts_per_request": (tally.checkouts / tally.counted) if tally.counted else None,
        "bytes_per_response": tally.bytes_in / done if done else 0,
        "client_cpu_pct": 100.0 * cpu / wall if wall else 0.0,
        "server_cpu_pct": 100.0 * server_cpu / wall if wall and server_pids else None,
        "server_cpu_seconds": server_cpu if server_pids else None,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - plain asyncio still works, only slower
        pass
    result = asyncio.run(run(spec))
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
