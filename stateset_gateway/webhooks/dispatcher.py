"""The dispatcher: fans outbox events out into deliveries, claims due deliveries with a lease, sends
them, and records how each attempt went.

At-least-once: a delivery is marked delivered only after its endpoint answered 2xx, so a dispatcher
killed mid-request leaves the row claimed until its lease expires, and the next dispatcher sends it
again with the same delivery id. Claims never overlap: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets
several dispatchers take disjoint rows; on SQLite the write lock (BEGIN IMMEDIATE) serialises claims.
A lease (`[webhooks] lease_seconds`) is longer than the request timeout, and a result is recorded
only while the lease taken for it still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import delete, exists, func, or_, select, update

from stateset_gateway import errors
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers.webhooks import ALL, resolve_target, unseal
from stateset_gateway.webhooks.signing import delivery_headers

log = logging.getLogger("stateset_gateway.webhooks")
D = WebhookDelivery
FAN_OUT_BATCH = 200
GAUGE_EVERY_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0
ORPHANS_KEPT_FOR = timedelta(minutes=10)
"""Events without deliveries (no endpoint subscribed) are kept this long: GraphQL subscribers on
every instance read them from the outbox (stateset_gateway/subscriptions/feed.py)."""


def subscribed(event_types: list[str], event_type: str) -> bool:
    family = event_type.partition(".")[0]
    return ALL in event_types or event_type in event_types or f"{family}.*" in event_types


class DispatcherMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter("stateset_webhook_deliveries_total",
                                  "Delivery attempts by outcome (delivered, retrying, failed)", ["outcome"],
                                  registry=registry)
        self.latency = Histogram("stateset_webhook_delivery_seconds", "Time for an endpoint to answer a delivery",
                                 registry=registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.queue_depth = Gauge("stateset_webhook_queue_depth", "Deliveries waiting to be sent", registry=registry)
        self.oldest_age = Gauge("stateset_webhook_oldest_pending_seconds",
                                "Age of the oldest delivery waiting to be sent", registry=registry)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_type: str
    attempts: int
    lease_until: datetime
    url: str
    secret_sealed: str
    body: bytes


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential, capped, with ±20% jitter."""
    w = settings.webhooks
    delay = min(w.backoff_seconds * w.backoff_factor ** max(attempts - 1, 0), w.max_backoff_seconds)
    return delay * random.uniform(0.8, 1.2)


def _tls(settings: Settings) -> ssl.SSLContext | bool:
    """The system's certificate authorities, unless `tls_verify = false` (refused outside development)."""
    return ssl.create_default_context() if settings.tls_verify else False


class Dispatcher:
    def __init__(self, db: Database, *, registry: CollectorRegistry | None = None, name: str | None = None) -> None:
        self.db = db
        self.settings = db.settings
        self.config = db.settings.webhooks
        self.name = name or f"dispatcher-{uuid.uuid4().hex[:8]}"
        self.metrics = DispatcherMetrics(registry) if registry is not None else None
        self._inflight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._last_gauges = 0.0
        self._last_purge = 0.0
        self._wake = asyncio.Event()
        self.attempts_recorded = 0

    @property
    def allow_private(self) -> bool:
        return self.config.private_targets_allowed(self.settings.is_development)

    # ---- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then in-flight deliveries get a moment to finish (what does not is
        sent again by whoever claims it after its lease)."""
        limits = httpx.Limits(max_connections=self.config.concurrency, max_keepalive_connections=self.config.concurrency)
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.config.timeout_seconds), limits=limits,
                                     verify=_tls(self.settings), follow_redirects=False, trust_env=False) as client:
            self._client = client
            try:
                while not stop.is_set():
                    try:
                        busy = await self.step()
                    except Exception:  # the database went away: log, wait, and try again
                        log.exception("webhook dispatcher step failed")
                        busy = False
                    if not busy:
                        self._wake.clear()
                        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                        await asyncio.wait(waiters, timeout=self.config.poll_interval_seconds,
                                           return_when=asyncio.FIRST_COMPLETED)
                        for waiter in waiters:
                            waiter.cancel()
            finally:
                if self._inflight:
                    await asyncio.wait(self._inflight, timeout=self.config.timeout_seconds)
                for task in list(self._inflight):
                    task.cancel()
                self._client = None

    async def step(self) -> bool:
        """One round: fan out new events, claim what the free slots can take, start sending it.
        True when it found work (the loop then goes again without waiting)."""
        now = time.monotonic()
        if now - self._last_purge > PURGE_EVERY_SECONDS:
            self._last_purge = now
            await self.purge()
        fanned = await self.fan_out()
        if self.metrics is not None and now - self._last_gauges > GAUGE_EVERY_SECONDS:
            self._last_gauges = now
            await self.update_gauges()
        free = self.config.concurrency - len(self._inflight)
        claimed = await self.claim(free) if free > 0 else []
        for item in claimed:
            task = asyncio.create_task(self._deliver(item))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return bool(fanned or claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def drain(self) -> None:
        """Run rounds until nothing is due and nothing is in flight (tests, the CLI's --once)."""
        limits = httpx.Limits(max_connections=self.config.concurrency)
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.config.timeout_seconds), limits=limits,
                                     verify=_tls(self.settings), follow_redirects=False, trust_env=False) as client:
            self._client = client
            while True:
                busy = await self.step()
                if self._inflight:
                    await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                elif not busy:
                    break
            self._client = None

    # ---- fan-out -------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """One delivery per (new event, active endpoint subscribed to it that existed when it
        happened). Events nobody subscribed to are marked too, and purged after ORPHANS_KEPT_FOR."""
        async with self.db.reader() as session:
            if not await session.scalar(select(exists().where(WebhookEvent.fanned_out.is_(False)))):
                return 0
        async with self.db.writer() as session:
            rows = (await session.execute(
                select(WebhookEvent.id, WebhookEvent.event_type, WebhookEvent.created_at)
                .where(WebhookEvent.fanned_out.is_(False)).order_by(WebhookEvent.created_at)
                .limit(FAN_OUT_BATCH).with_for_update(skip_locked=True)
            )).all()
            if not rows:
                return 0
            hooks = (await session.execute(
                select(Webhook.id, Webhook.event_types, Webhook.created_at).where(Webhook.is_active.is_(True))
            )).all()
            deliveries, done = [], []
            for event_id, event_type, created_at in rows:
                targets = [h.id for h in hooks if h.created_at <= created_at and subscribed(h.event_types, event_type)]
                deliveries.extend({"id": uuid.uuid4(), "webhook_id": hook, "event_id": event_id,
                                   "event_type": event_type} for hook in targets)
                done.append(event_id)  # one no endpoint takes stays for subscriptions (ORPHANS_KEPT_FOR)
            if deliveries:
                stamp = utcnow()
                session.add_all([D(**d, created_at=stamp, updated_at=stamp, next_attempt_at=stamp) for d in deliveries])
                await session.flush()
            if done:
                await session.execute(update(WebhookEvent).where(WebhookEvent.id.in_(done)).values(fanned_out=True))
        return len(rows)

    # ---- claims --------------------------------------------------------------------------------

    def _due(self, now: datetime) -> Any:
        return (D.status == DeliveryStatus.PENDING, D.next_attempt_at <= now,
                or_(D.lease_until.is_(None), D.lease_until < now))

    async def claim(self, limit: int) -> list[Claimed]:
        now = utcnow()
        async with self.db.reader() as session:
            if not await session.scalar(select(exists().where(*self._due(now)))):
                return []
        lease = now + timedelta(seconds=self.config.lease_seconds)
        async with self.db.writer() as session:
            ids = list((await session.scalars(
                select(D.id).join(Webhook, Webhook.id == D.webhook_id)
                .where(*self._due(now), Webhook.is_active.is_(True))
                .order_by(D.next_attempt_at).limit(limit).with_for_update(of=D, skip_locked=True)
            )).all())
            if not ids:
                return []
            await session.execute(update(D).where(D.id.in_(ids))
                                  .values(lease_until=lease, attempts=D.attempts + 1, updated_at=now))
            rows = (await session.execute(
                select(D.id, D.webhook_id, D.event_type, D.attempts, Webhook.url, Webhook.secret_encrypted,
                       WebhookEvent.body)
                .join(Webhook, Webhook.id == D.webhook_id).join(WebhookEvent, WebhookEvent.id == D.event_id)
                .where(D.id.in_(ids))
            )).all()
        return [Claimed(r.id, r.webhook_id, r.event_type, r.attempts, lease, r.url, r.secret_encrypted,
                        r.body.encode()) for r in rows]

    # ---- sending -------------------------------------------------------------------------------

    async def _deliver(self, item: Claimed) -> None:
        status_code: int | None = None
        error: str | None = None
        started = time.perf_counter()
        try:
            status_code = await self._send(item)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except errors.ValidationFailed as exc:
            error = "Refused: " + "; ".join(m for ms in exc.details.values() for m in ms)
        except httpx.TimeoutException:
            error = f"Timed out after {self.config.timeout_seconds:g}s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
        except Exception as exc:  # never let one delivery stop the dispatcher
            log.exception("webhook delivery %s failed unexpectedly", item.id)
            error = f"{type(exc).__name__}: {exc}"[:1000]
        elapsed = time.perf_counter() - started
        try:
            await self._record(item, status_code, error, elapsed)
        except Exception:
            log.exception("could not record the outcome of webhook delivery %s", item.id)

    async def _send(self, item: Claimed) -> int:
        assert self._client is not None
        target = await resolve_target(item.url, allow_private=self.allow_private)  # again: DNS can change
        secret = unseal(self.settings, item.secret_sealed)
        headers = delivery_headers(secret, delivery_id=str(item.id), event_type=item.event_type,
                                   timestamp=int(time.time()), body=item.body)
        request = self._client.build_request("POST", item.url, content=item.body, headers=headers)
        if target.addresses:  # connect to the address just checked, not to a second DNS answer
            address = target.addresses[0]
            request.url = request.url.copy_with(host=address)
            request.headers["Host"] = httpx.URL(item.url).netloc.decode()
            request.extensions["sni_hostname"] = target.host
        response = await self._client.send(request, stream=True)
        await response.aclose()  # the status is all we need; never read an unbounded body
        return response.status_code

    async def _record(self, item: Claimed, status_code: int | None, error: str | None, elapsed: float) -> None:
        now = utcnow()
        ours = (D.id == item.id, D.lease_until == item.lease_until)
        values: dict[str, Any] = {"lease_until": None, "last_status_code": status_code, "last_error": error,
                                  "last_response_ms": round(elapsed * 1000), "updated_at": now}
        if error is None:
            outcome = "delivered"
            values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt_at": None}
        elif item.attempts >= self.config.max_attempts:
            outcome = "failed"
            values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
        else:
            outcome = "retrying"
            values |= {"next_attempt_at": now + timedelta(seconds=backoff(self.settings, item.attempts))}
        async with self.db.writer() as session:
            result = await session.execute(update(D).where(*ours).values(**values))
            if not result.rowcount:  # the lease ran out and another dispatcher owns the row now
                return
            await self._endpoint_health(session, item, ok=error is None, error=error, now=now)
        self.attempts_recorded += 1
        if self.metrics is not None:
            self.metrics.deliveries.labels(outcome).inc()
            if status_code is not None:
                self.metrics.latency.observe(elapsed)
        log.info("webhook delivery", extra={"delivery_id": str(item.id), "event": item.event_type,
                                            "attempt": item.attempts, "outcome": outcome, "status": status_code,
                                            "error": error})

    async def _endpoint_health(self, session: Any, item: Claimed, *, ok: bool, error: str | None,
                               now: datetime) -> None:
        """A success clears the endpoint's run of failures; failing for `disable_after_hours` disables it."""
        W = Webhook
        if ok:
            await session.execute(update(W).where(W.id == item.webhook_id, W.failing_since.is_not(None))
                                  .values(failing_since=None))
            return
        await session.execute(update(W).where(W.id == item.webhook_id, W.failing_since.is_(None))
                              .values(failing_since=now))
        cutoff = now - timedelta(hours=self.config.disable_after_hours)
        reason = (f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: deliveries failed for more than "
                  f"{self.config.disable_after_hours:g} hours (last: {error})")[:500]
        await session.execute(update(W).where(W.id == item.webhook_id, W.is_active.is_(True),
                                              W.failing_since < cutoff)
                              .values(is_active=False, disabled_reason=reason, updated_at=now, version=W.version + 1))

    # ---- upkeep --------------------------------------------------------------------------------

    async def update_gauges(self) -> None:
        assert self.metrics is not None
        async with self.db.reader() as session:
            depth, oldest = (await session.execute(
                select(func.count(), func.min(D.created_at)).where(D.status == DeliveryStatus.PENDING))).one()
        self.metrics.queue_depth.set(depth or 0)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        self.metrics.oldest_age.set((utcnow() - oldest).total_seconds() if oldest else 0)

    async def purge(self) -> None:
        """Finished deliveries after `[webhooks] retention_days`, and the events left without any
        after ORPHANS_KEPT_FOR."""
        cutoff = utcnow() - timedelta(days=self.config.retention_days)
        async with self.db.writer() as session:
            await session.execute(delete(D).where(D.status != DeliveryStatus.PENDING, D.updated_at < cutoff))
            await session.execute(delete(WebhookEvent).where(
                WebhookEvent.fanned_out.is_(True), WebhookEvent.created_at < utcnow() - ORPHANS_KEPT_FOR,
                ~exists().where(D.event_id == WebhookEvent.id)))


@contextlib.asynccontextmanager
async def running(db: Database, *, registry: CollectorRegistry | None = None) -> Any:
    """A dispatcher in the background of the current event loop for the duration of the block (`serve`)."""
    stop = asyncio.Event()
    dispatcher = Dispatcher(db, registry=registry)
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
