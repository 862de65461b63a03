"""Prometheus metrics: request durations by method, route and status, and errors by documented code."""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


class Metrics:
    """Per-app registry, so several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Durations(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            ("method", "route", "status"),
            (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.registry.register(self.request_duration)
        self.errors = Counter(
            "stateset_errors_total", "Error responses by documented code", ["code"], registry=self.registry
        )
        self._errors: dict[str, Any] = {}

    def count_error(self, code: str) -> None:
        """One error answered with this documented code. GraphQL answers most errors with status 200,
        so this is where they show: both transports count every error they render."""
        child = self._errors.get(code)
        if child is None:
            child = self._errors[code] = self.errors.labels(code)
        child.inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Methods outside HTTP's own set count as OTHER, so a client inventing methods cannot grow
        the series without bound (routes are templates, statuses are few)."""
        self.request_duration.observe((method if method in _METHODS else "OTHER", route, status), seconds)


class Durations:
    """A histogram by label set, kept as plain counts and handed to Prometheus as a
    `HistogramMetricFamily` when it is scraped (a custom collector, as prometheus_client documents).

    Every request is observed once. prometheus_client's `Histogram` takes a lock for its sum and
    another for its bucket, and walks the bounds in Python: served, that was 9 us of a trivial
    request's 135. Here an observation is a bisect and two additions, made on the event loop's one
    thread. The exposition is the same: cumulative buckets with Go-style `le` labels, `_count`,
    `_sum` and `_created`, for each label set seen."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...],
                 bounds: tuple[float, ...]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.bounds = bounds
        self._les = [floatToGoString(bound) for bound in (*bounds, math.inf)]
        # label values -> [sum, count in each bucket (not cumulative), the last for +Inf]; created
        self._series: dict[tuple[Any, ...], list[float]] = {}
        self._created: dict[tuple[Any, ...], float] = {}

    def observe(self, labels: tuple[Any, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            self._created[labels] = time.time()
            series = self._series[labels] = [0.0] * (len(self.bounds) + 2)
        series[0] += value
        series[1 + bisect_left(self.bounds, value)] += 1  # the first bucket whose bound is >= value

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, series in list(self._series.items()):
            values = [str(v) for v in labels]
            total, cumulative, buckets = series[0], 0.0, []
            for le, count in zip(self._les, series[1:]):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric(values, buckets, total)
            family.add_sample(self.name + "_created", dict(zip(self.labels, values)), self._created[labels])
        yield family

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
