"""The events of this process's subscribers: each subscriber has a bounded queue, filled by `publish`.

A subscriber that does not keep up is not allowed to grow memory: once its queue is full, its
`on_overflow` is called at once (the socket serving it closes), its next read raises `SlowConsumer`,
and everything else it would have got is dropped. `publish` never waits for anyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Accepts = Callable[["Event"], bool]


@dataclass(frozen=True, slots=True)
class Event:
    """An event as the outbox recorded it: `data` is the resource as REST and webhooks show it."""

    id: str
    type: str
    data: dict[str, Any]


class SlowConsumer(Exception):
    """The subscriber's queue filled: it reads events slower than they happen."""


_OVERFLOW = object()


class Subscriber:
    """One subscription's events, in the order published. An async iterator; `close()` leaves the hub."""

    def __init__(self, hub: Hub, types: frozenset[str], accepts: Accepts, capacity: int,
                 on_overflow: Callable[[], None] | None = None) -> None:
        self.hub = hub
        self.on_overflow = on_overflow
        self.types = types
        self.accepts = accepts
        self._queue: asyncio.Queue[Any] = asyncio.Queue(capacity + 1)  # + room for the overflow mark
        self._capacity = capacity
        self._overflowed = False

    def offer(self, event: Event) -> None:
        if self._overflowed or not self.accepts(event):
            return
        if self._queue.qsize() >= self._capacity:
            self._overflowed = True
            self._queue.put_nowait(_OVERFLOW)
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._queue.put_nowait(event)

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if item is _OVERFLOW:
            raise SlowConsumer
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        self.hub.leave(self)


class Hub:
    """Subscribers by event type. `on_first` / `on_last` tell the feed when to start and stop reading."""

    def __init__(self, capacity: int, on_first: Callable[[], None] | None = None,
                 on_last: Callable[[], None] | None = None) -> None:
        self.capacity = capacity
        self._by_type: dict[str, set[Subscriber]] = {}
        self._count = 0
        self._on_first = on_first
        self._on_last = on_last

    @property
    def subscribers(self) -> int:
        return self._count

    def join(self, types: Iterable[str], accepts: Accepts,
             on_overflow: Callable[[], None] | None = None) -> Subscriber:
        subscriber = Subscriber(self, frozenset(types), accepts, self.capacity, on_overflow)
        for event_type in subscriber.types:
            self._by_type.setdefault(event_type, set()).add(subscriber)
        self._count += 1
        if self._count == 1 and self._on_first is not None:
            self._on_first()
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        removed = False
        for event_type in subscriber.types:
            members = self._by_type.get(event_type)
            if members is not None and subscriber in members:
                members.discard(subscriber)
                removed = True
                if not members:
                    del self._by_type[event_type]
        if removed:
            self._count -= 1
            if self._count == 0 and self._on_last is not None:
                self._on_last()

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._by_type.get(event.type, ())):
            subscriber.offer(event)
