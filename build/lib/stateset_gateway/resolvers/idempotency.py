"""Idempotency keys (CONTRACT section 6): a client that retries a write with the same
`Idempotency-Key` gets the first answer again instead of a second write.

The rules: a key belongs to one client (an API key, a user or an address, as the rate limit names
them), so no client ever sees another's response; it lives 10 minutes from its first use; reusing it
for a different request (method, path, query or body) is 409 DUPLICATE_ENTRY. A retry that arrives
while the first request runs waits for it and gets its answer, so a burst of one request is answered
alike whatever the transport, the database or the timing: one write, every other answer its replay.
Only successful answers are kept. A request refused with a 4xx wrote nothing (operations own their
transactions), so its key is released and a waiting retry, or a corrected request with the same key,
runs afresh; one whose outcome is unknown (a server error, a timeout, a client gone mid-request: the
write may have committed) keeps the key claimed, and retries answer 409 until it expires rather than
risk a second write.

The wait: a retry in the process running the first request is woken when that request ends
(`InFlight`); one on another instance polls the database. Neither waits past the first request's
own time limit (`max_run`, the request timeout): a request still unanswered then ended without a
known outcome, or its process died.

Stored in the database, so every instance sees the same keys. The answer is stored after the
operation's own transaction has committed: a process that dies between the two leaves the key
claimed without an answer until it expires, never a second write.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models.idempotency import IdempotencyRecord
from stateset_gateway.db.types import utcnow

KEY_LIFETIME = timedelta(minutes=10)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    content_type: str | None
    body: bytes


def fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> str:
    """What makes two requests "the same request" for a key: method, path, query and body, byte for byte."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), query_string, body])).hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise errors.ValidationFailed({"Idempotency-Key": [f"must be 1 to {MAX_KEY_LENGTH} printable characters"]})


POLL_INTERVAL = 0.05  # seconds between looks at a key another instance is running


class InFlight:
    """The keys this process is running a first request for: a retry that arrives meanwhile waits
    here to be woken when it ends, rather than polling the database."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], asyncio.Event] = {}

    def start(self, client: str, key: str) -> None:
        self._running[(client, key)] = asyncio.Event()

    def finish(self, client: str, key: str) -> None:
        event = self._running.pop((client, key), None)
        if event is not None:
            event.set()

    async def wait(self, client: str, key: str, timeout: float) -> bool:
        """True once the first request ended here; False when it is not running in this process."""
        event = self._running.get((client, key))
        if event is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass
        return True


async def claim(db: Database, in_flight: InFlight, client: str, key: str, fingerprint: str, *,
                max_run: timedelta) -> StoredResponse | None:
    """None when this request is the key's first and should run now (the key is then held for it,
    until `in_flight.finish`); the stored response when it is a retry of an answered request, having
    waited for the answer when the first request was still running."""
    while True:
        found = await _claim_once(db, client, key, fingerprint)
        if not isinstance(found, datetime):
            if found is None:
                in_flight.start(client, key)
            return found
        remaining = (found + max_run - utcnow()).total_seconds()
        if remaining <= 0:
            raise _still_running(key)
        if await in_flight.wait(client, key, remaining):
            found = await _claim_once(db, client, key, fingerprint)  # answered, released, or kept
            if isinstance(found, datetime):
                raise _still_running(key)  # it ended here without a known outcome
            if found is None:
                in_flight.start(client, key)
            return found
        await asyncio.sleep(min(POLL_INTERVAL, remaining))


async def _claim_once(db: Database, client: str, key: str, fingerprint: str) -> StoredResponse | datetime | None:
    """None: claimed now; the stored answer; or, while the key's first request runs, when it began."""
    now = utcnow()
    try:
        async with db.writer() as session:
            await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
            record = await session.get(IdempotencyRecord, (client, key), with_for_update=True)
            if record is None:
                session.add(IdempotencyRecord(client=client, key=key, fingerprint=fingerprint, created_at=now,
                                              expires_at=now + KEY_LIFETIME))
                return None
            if record.fingerprint != fingerprint:
                raise errors.DuplicateEntry("Idempotency-Key", key,
                                            "This Idempotency-Key was already used with a different request")
            if record.status_code is None:
                return record.created_at
            return StoredResponse(record.status_code, record.content_type, record.body or b"")
    except IntegrityError:  # a concurrent first use of the same key inserted it first
        return now


async def complete(db: Database, client: str, key: str, response: StoredResponse) -> None:
    async with db.writer() as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.client == client, IdempotencyRecord.key == key)
            .values(status_code=response.status_code, content_type=response.content_type, body=response.body)
        )


async def release(db: Database, client: str, key: str) -> None:
    async with db.writer() as session:
        await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.client == client, IdempotencyRecord.key == key,
                                            IdempotencyRecord.status_code.is_(None))  # type: ignore[union-attr]
        )


def _still_running(key: str) -> errors.DuplicateEntry:
    return errors.DuplicateEntry(
        "Idempotency-Key", key,
        "A request with this Idempotency-Key ended without a known outcome (a server error or a timeout), "
        "or is still being processed past its time limit; the key is free again when it expires")
