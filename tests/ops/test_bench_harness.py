"""The benchmark harness's own logic (nothing timed), and the probe it serves the gateway with."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.harness import (
    Result,
    combine_rounds,
    format_ratios,
    format_table,
    http_request,
    parse_args,
    ratios,
)
from bench.probe import StatementCounter


def test_defaults_are_the_documented_size() -> None:
    opts = parse_args([])
    assert (opts.customers, opts.products, opts.orders) == (10_000, 1_000, 100_000)
    assert opts.workers == 1 and opts.concurrency == 8 and opts.deep_offset == 50_000
    assert opts.workloads == ["ref", "5", "1", "2", "3", "6", "4"]
    assert not opts.keep


def test_quick_is_smaller_and_deep_page_stays_inside_the_data() -> None:
    opts = parse_args(["--quick", "--workloads", "1,6,ref"])
    assert opts.orders < 100_000 and opts.deep_offset == opts.orders // 2
    assert opts.workloads == ["ref", "1", "6"]


@pytest.mark.parametrize("argv", [["--workloads", "7"], ["--skip-seed"], ["--concurrency", "0"], ["--page-size", "500"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_table_and_ratios() -> None:
    results = [Result("ref", rps=3000), Result("5", rps=2400, statements=0.0),
               Result("1", rps=100, p50_ms=70.0, statements=6.0), Result("3", rps=110, statements=4.0),
               Result("6", rps=90, statements=6.0)]
    table = format_table(results)
    assert "workload" in table.splitlines()[0] and "2,400" in table and "6.00" in table
    assert format_table(results, markdown=True).startswith("| workload |")
    got = {what: value for what, value, _ in ratios(results)}
    assert got["req/s: floor (5) / bare FastAPI (ref)"] == pytest.approx(0.8)
    assert got["time/request: deep page (6) / first page (1)"] == pytest.approx(100 / 90)
    assert got["time/request: REST (3) / GraphQL (1)"] == pytest.approx(100 / 110)
    assert "0.80" in format_ratios(results)


def test_raw_requests_carry_their_length() -> None:
    raw = http_request("POST", 8080, "/graphql", body=b'{"query": "{ __typename }"}', headers={"X-API-Key": "k"})
    head, body = raw.split("\r\n\r\n")
    assert "Content-Length: 27" in head and body == '{"query": "{ __typename }"}'


def test_rounds_combine_to_medians_and_the_floor_ratio_is_paired_round_by_round() -> None:
    # Round 2 ran while the machine was busy: both slowed, their ratio did not.
    ref = combine_rounds([Result("ref", requests=100, rps=9000, p50_ms=0.8, peak_rss_mb=50),
                          Result("ref", requests=100, rps=4000, p50_ms=2.0, peak_rss_mb=52),
                          Result("ref", requests=100, rps=8000, p50_ms=0.9, peak_rss_mb=51)])
    floor = combine_rounds([Result("5", requests=90, rps=7200, p50_ms=1.0, errors=1),
                            Result("5", requests=90, rps=3200, p50_ms=2.4),
                            Result("5", requests=90, rps=6000, p50_ms=1.1)])
    assert (ref.rps, ref.p50_ms, ref.requests, ref.peak_rss_mb) == (8000, 0.9, 300, 52)
    assert (floor.rps, floor.errors, floor.round_rps) == (6000, 1, [7200, 3200, 6000])
    got = {what: value for what, value, _ in ratios([ref, floor])}
    assert got["req/s: floor (5) / bare FastAPI (ref)"] == pytest.approx(0.8)  # median of 0.80, 0.80, 0.75
    assert "by round (3 alternating rounds" in format_ratios([ref, floor]) and "0.75" in format_ratios([ref, floor])


async def test_the_probe_reports_each_requests_statements_and_the_product_does_not(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    query = {"query": "{ orders(first: 5) { nodes { id items { id } } } }"}
    transport = httpx.ASGITransport(app=StatementCounter(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as probed:
        answered = await probed.post("/graphql", json=query, headers=admin_headers)
        rest = await probed.get("/api/v1/orders", headers=admin_headers)
    assert answered.status_code == 200 and "errors" not in answered.json()
    assert int(answered.headers["x-bench-sql-statements"]) >= 1  # at least the page itself
    assert int(answered.headers["x-bench-db-checkouts"]) >= 1
    assert rest.status_code == 200 and int(rest.headers["x-bench-sql-statements"]) >= 1

    plain = await client.post("/graphql", json=query, headers=admin_headers)
    assert plain.status_code == 200 and "x-bench-sql-statements" not in plain.headers
