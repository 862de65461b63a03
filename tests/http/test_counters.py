"""The in-process counters keep a bounded number of clients, however many addresses a flood invents."""

from __future__ import annotations

import pytest

from stateset_gateway import counters
from stateset_gateway.counters import LocalStorage


async def test_a_flood_of_clients_is_bounded_and_recent_counts_survive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counters, "MAX_COUNTERS", 100)
    storage = LocalStorage()
    for n in range(1_000):
        await storage.incr(f"ip:10.0.{n // 256}.{n % 256}", 60)
        await storage.acquire_entry(f"login:{n}", 5, 900)
    assert len(storage.windows) <= 101 and len(storage.events) <= 101
    assert await storage.incr("ip:10.0.3.231", 60) == 2  # the newest clients are still counted
    assert await storage.get("ip:10.0.0.0") == 0  # the oldest were forgotten
