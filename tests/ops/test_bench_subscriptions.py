"""The subscription fan-out step of the benchmark, run end to end at a tiny size (nothing timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.subscriptions import Report, format_report

ROOT = Path(__file__).resolve().parents[2]


def test_the_step_delivers_every_event_to_every_subscriber_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.json"  # a folder not made yet, as bench/out/ in a fresh checkout
    done = subprocess.run([sys.executable, "-m", "bench.subscriptions", "-N", "5", "-E", "2", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert (report["subscribers"], report["events"], report["delivered"]) == (5, 2, 10)
    assert report["closed_early"] == 0
    assert report["rss_idle_mb"] > 0 and report["events_per_second"] > 0
    assert "events delivered per second" in done.stdout and "memory per idle subscriber, KB" in done.stdout


def test_markdown_table_has_a_column_per_run() -> None:
    report = Report(database="sqlite", subscribers=1000, events=50, rss_before_mb=100.0, rss_idle_mb=200.0,
                    kb_per_subscriber=102.4, connect_seconds=5.0, delivered=50_000, fan_out_seconds=25.0,
                    events_per_second=2000.0, server_cpu_us_per_event=500.0, client_cpu_us_per_event=50.0,
                    closed_early=0)
    table = format_report([report, report], markdown=True)
    assert table.splitlines()[0] == "| measure | run 1 | run 2 |"
    assert "| events delivered per second | 2,000 | 2,000 |" in table


@pytest.mark.parametrize("argv", [["-N", "0"], ["-E", "0"], ["--database", "mysql"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    from bench.subscriptions import main

    with pytest.raises(SystemExit):
        main(argv)
