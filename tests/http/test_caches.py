"""`[cache] max_size_mb` bounds what the gateway keeps in memory, whatever clients send."""

from __future__ import annotations

import pytest

from stateset_gateway.caches import MB, SHARES, SizedLRU, cache_for
from stateset_gateway.config import Settings


def test_entries_past_the_bound_evict_the_least_recently_used() -> None:
    cache: SizedLRU[str, int] = SizedLRU(max_bytes=100)
    cache.put("a", 1, 40)
    cache.put("b", 2, 40)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, 40)
    assert ("a" in cache, "b" in cache, "c" in cache) == (True, False, True)
    assert cache.bytes == 80


def test_an_entry_larger_than_the_bound_is_not_kept() -> None:
    cache: SizedLRU[str, int] = SizedLRU(max_bytes=100)
    cache.put("a", 1, 40)
    cache.put("huge", 2, 101)
    assert "huge" not in cache and cache.get("a") == 1 and cache.bytes == 40


def test_replacing_an_entry_counts_its_size_once() -> None:
    cache: SizedLRU[str, int] = SizedLRU(max_bytes=100)
    for _ in range(5):
        cache.put("a", 1, 60)
    assert len(cache) == 1 and cache.bytes == 60
    assert cache.pop("a") == 1 and cache.bytes == 0


def test_the_caches_share_max_size_mb() -> None:
    settings = Settings(cache={"max_size_mb": 10})
    total = sum(cache_for(settings, name).max_bytes for name in SHARES)
    assert total == pytest.approx(10 * MB, rel=0.01)


@pytest.mark.settings(cache={"max_size_mb": 1}, rate_limit="off")
async def test_many_distinct_documents_stay_within_the_documents_share(client, app) -> None:
    """Every distinct valid document is kept until the documents' share is full, then the oldest go."""
    for n in range(100):
        query = "{ __typename a%d: __typename %s }" % (n, " ".join(f"b{n}_{i}: __typename" for i in range(6)))
        response = await client.post("/graphql", json={"query": query})
        assert response.status_code == 200
    endpoint_documents = app.state.graphql.documents
    assert endpoint_documents.bytes <= endpoint_documents.max_bytes == int(MB * SHARES["documents"])
    assert 0 < len(endpoint_documents) < 100
    plans = app.state.graphql.planned.plans
    assert plans._entries.bytes <= plans._entries.max_bytes == int(MB * SHARES["plans"])
