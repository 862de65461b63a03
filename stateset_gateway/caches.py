"""In-process caches, bounded together by `[cache] max_size_mb`.

The gateway keeps a few things in memory so that a repeated request skips work: parsed and
validated documents, execution plans, persisted queries, verified API keys. Each is an LRU with its
own share of the one budget an operator sets, so the process's memory for caches has a stated bound
whatever clients send. Sizes are estimates (a parsed document costs about 200 bytes per character of
its text, measured with tracemalloc on the bench's queries); what matters is that they grow with what
is cached, so a client sending many large documents evicts, never grows the process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from stateset_gateway.config import Settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MB = 1024 * 1024

# Each cache's share of `[cache] max_size_mb`. Documents and plans are what every GraphQL request
# looks up; persisted queries hold the texts clients registered; keys are small.
SHARES: dict[str, float] = {"documents": 0.35, "plans": 0.35, "persisted_queries": 0.2, "api_keys": 0.1}

DOCUMENT_BYTES_PER_CHAR = 200
ENTRY_OVERHEAD_BYTES = 512


def document_bytes(text: str) -> int:
    """The estimated memory of what is kept for a document of this text (its AST, or a plan of it)."""
    return ENTRY_OVERHEAD_BYTES + DOCUMENT_BYTES_PER_CHAR * len(text)


class SizedLRU(Generic[K, V]):
    """Least recently used entries are dropped once the entries' sizes add up past `max_bytes`.
    An entry larger than the whole bound is not kept at all."""

    __slots__ = ("max_bytes", "bytes", "_entries")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, size: int) -> None:
        self.pop(key)
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def items(self) -> Iterator[tuple[K, V]]:
        """Every entry, least recently used first, without touching their order."""
        return ((key, entry[0]) for key, entry in self._entries.items())

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.bytes -= entry[1]
        return entry[0]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


def cache_for(settings: Settings, name: str) -> SizedLRU[K, V]:
    """The cache called `name` (a key of SHARES), with its share of `[cache] max_size_mb`."""
    return SizedLRU(int(settings.cache.max_size_mb * MB * SHARES[name]))
