"""The request-duration histogram (http/metrics.py `Durations`) against prometheus_client's own
`Histogram`, which it replaces on the hot path: the same observations give the same exposition."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from stateset_gateway.http.metrics import Durations

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LABELS = st.tuples(st.sampled_from(["GET", "POST", "OTHER"]), st.sampled_from(["/graphql", "/api/v1/orders"]),
                   st.sampled_from([200, 400, 499]))
# Durations, the bounds themselves included (a value equal to a bound is in that bound's bucket)
VALUES = st.one_of(st.sampled_from(BOUNDS), st.floats(min_value=0, max_value=60, allow_nan=False))


def _without_created_times(text: bytes) -> str:
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text.decode())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LABELS, VALUES), max_size=40))
def test_the_same_exposition_as_prometheus_clients_histogram(
    observations: list[tuple[tuple[str, str, int], float]],
) -> None:
    ours, reference = CollectorRegistry(), CollectorRegistry()
    durations = Durations("http_request_duration_seconds", "Time to answer an HTTP request",
                          ("method", "route", "status"), BOUNDS)
    ours.register(durations)
    histogram = Histogram("http_request_duration_seconds", "Time to answer an HTTP request",
                          ["method", "route", "status"], registry=reference, buckets=BOUNDS)
    for labels, value in observations:
        durations.observe(labels, value)
        histogram.labels(labels[0], labels[1], str(labels[2])).observe(value)
    assert _without_created_times(generate_latest(ours)) == _without_created_times(generate_latest(reference))
