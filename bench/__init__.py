"""Benchmark harness for the gateway: `python -m bench --help` (or `make bench BENCH_ARGS=...`)."""
