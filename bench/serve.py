"""`python -m bench.serve`: the gateway as `stateset-cli serve` runs it, wrapped in the benchmark's probe.

Same settings (APP__ variables), same start-up and the same uvicorn options, through the CLI's own
`run_server`: only the application differs, by the probe (bench/probe.py) around it, which reports
each request's SQL statements in a response header.
"""

from __future__ import annotations

from bench.probe import StatementCounter
from stateset_gateway.app import create_served_app
from stateset_gateway.cli import run_server


def create_app() -> StatementCounter:
    """The factory each uvicorn worker calls."""
    return StatementCounter(create_served_app())


def main() -> None:
    run_server("bench.serve:create_app")


if __name__ == "__main__":
    main()
