"""Prometheus metrics: request durations by method, route and status, and errors by documented code."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class Metrics:
    """Per-app registry, so several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.errors = Counter(
            "stateset_errors_total", "Error responses by documented code", ["code"], registry=self.registry
        )
        self._durations: dict[tuple[str, str, int], Any] = {}
        self._errors: dict[str, Any] = {}

    def count_error(self, code: str) -> None:
        """One error answered with this documented code. GraphQL answers most errors with status 200,
        so this is where they show: both transports count every error they render."""
        child = self._errors.get(code)
        if child is None:
            child = self._errors[code] = self.errors.labels(code)
        child.inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Labelled children are looked up once per label set and kept: `labels()` validates and
        locks on every call. Methods outside HTTP's own set count as OTHER, so a client inventing
        methods cannot grow the series without bound (routes are templates, statuses are few)."""
        key = (method if method in _METHODS else "OTHER", route, status)
        child = self._durations.get(key)
        if child is None:
            child = self._durations[key] = self.request_duration.labels(key[0], route, str(status))
        child.observe(seconds)
