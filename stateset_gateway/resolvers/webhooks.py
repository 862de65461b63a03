"""Webhook endpoints and their deliveries: register, change, rotate the secret, test, read the
logs, retry a delivery.

The signing secret is returned once, by the operation that makes it (create, rotate), and is
stored encrypted with a key derived from the server secret (`[auth] jwt_secret`), so a dump of the
database alone does not reveal it. Target URLs must be http(s); outside development (or with
`[webhooks] allow_private_targets = false`) one that resolves to a private, loopback, link-local or
otherwise non-public address is refused here, and again at each delivery (DNS can change).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
import socket
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field, StringConstraints, field_validator
from sqlalchemy import select

from stateset_gateway import errors
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import DeliveryStatus, Webhook, WebhookDelivery
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers.common import check_version, get_or_404, parse_id, touch, validate
from stateset_gateway.resolvers.events import EVENT_TYPES, PING, new_event
from stateset_gateway.resolvers.inputs import Input, Instant, Version, dump
from stateset_gateway.resolvers.pagination import (
    CursorArgs,
    OffsetArgs,
    OffsetPage,
    Page,
    Sort,
    count_of,
    page_of,
    whole_table,
)

KIND = "Webhook"
SECRET_PREFIX = "whsec_"
ALL = "*"

# ---- inputs --------------------------------------------------------------------------------------

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


def _event_types(value: list[str] | None) -> list[str] | None:
    """`*`, a whole family (`order.*`) or names from the catalogue; duplicates dropped, order kept."""
    if value is None:
        return None
    if not value:
        raise ValueError("List at least one event type, or \"*\" for all")
    families = {name.partition(".")[0] for name in EVENT_TYPES}
    for name in value:
        if name != ALL and name not in EVENT_TYPES and not (name.endswith(".*") and name[:-2] in families):
            raise ValueError(f"Unknown event type {name!r}; known: *, {', '.join(EVENT_TYPES)} (or family.*)")
    return list(dict.fromkeys(value))


class WebhookCreate(Input):
    url: Url
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    event_types: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=lambda: [ALL], max_length=50,
        description='The events to receive: names from the catalogue, a family ("order.*"), or "*" for all.')
    is_active: bool = True

    @field_validator("event_types")
    @classmethod
    def _check_events(cls, value: list[str] | None) -> list[str] | None:
        return _event_types(value)


class WebhookUpdate(Input):
    not_null = frozenset({"url", "event_types", "is_active"})

    url: Url | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    event_types: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(None, max_length=50)
    is_active: bool | None = Field(None, description="true re-enables an endpoint that was disabled.")
    expected_version: Version | None = None

    @field_validator("event_types")
    @classmethod
    def _check_events(cls, value: list[str] | None) -> list[str] | None:
        return _event_types(value)


class DeliveryFilter(Input):
    webhook_id: uuid.UUID | None = None
    event_type: Annotated[str, StringConstraints(max_length=64)] | None = None
    status: DeliveryStatus | None = None
    created_from: Instant | None = None
    created_to: Instant | None = None


# ---- the secret ----------------------------------------------------------------------------------

def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes, the Standard Webhooks form: their libraries take it as
    is, and the guide's HMAC uses the whole string as its key."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _box(settings: Settings) -> Fernet:
    server_secret = settings.auth.jwt_secret.get_secret_value().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"stateset-gateway webhook signing secrets").derive(server_secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(settings: Settings, secret: str) -> str:
    return _box(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    """The signing secret; fails when the server secret changed since it was stored."""
    try:
        return _box(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise RuntimeError("the webhook secret cannot be decrypted: the server secret changed since it was "
                           "stored; rotate the endpoint's secret") from None


# ---- targets -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    url: str
    host: str
    addresses: tuple[str, ...]
    """The public addresses the host resolved to (empty when private targets are allowed)."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, else VALIDATION_ERROR on `url`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise errors.ValidationFailed.field("url", "Must be a valid http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ValidationFailed.field("url", "Must be an http:// or https:// URL with a host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Check `url` may receive deliveries. Unless private targets are allowed, every address its host
    resolves to must be public (one private address is enough to refuse: DNS answers rotate)."""
    _, host, port = parse_url(url)
    if allow_private:
        return Target(url, host, ())
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # socket.gaierror is an OSError
        raise errors.ValidationFailed.field("url", f"The host {host} does not resolve") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    private = [a for a in addresses if not _is_public(a)]
    if not addresses or private:
        raise errors.ValidationFailed.field(
            "url", f"The host {host} resolves to a private, loopback or link-local address ({private[0] if private else host}); "
                   "webhooks are only sent to public addresses ([webhooks] allow_private_targets)")
    return Target(url, host, addresses)


def _allow_private(db: Database) -> bool:
    return db.settings.webhooks.private_targets_allowed(db.settings.is_development)


# ---- endpoints -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WithSecret:
    """An endpoint and its signing secret, returned only where the secret is made."""

    webhook: Webhook
    secret: str


async def create_webhook(db: Database, data: Any) -> WithSecret:
    payload = validate(WebhookCreate, data)
    await resolve_target(payload.url, allow_private=_allow_private(db))
    secret = new_secret()
    async with db.writer() as session:
        webhook = Webhook(url=payload.url, description=payload.description, event_types=payload.event_types,
                          is_active=payload.is_active, secret_encrypted=seal(db.settings, secret))
        session.add(webhook)
    return WithSecret(webhook, secret)


async def get_webhook(db: Database, webhook_id: Any) -> Webhook:
    async with db.reader() as session:
        return await get_or_404(session, Webhook, webhook_id, KIND)


async def list_webhooks(db: Database, *, args: CursorArgs | OffsetArgs) -> Page[Webhook] | OffsetPage[Webhook]:
    return await page_of(db, whole_table(Webhook), Sort(Webhook.created_at), Webhook.id, args)


async def count_webhooks(db: Database) -> int:
    return await count_of(db, select(Webhook))


async def update_webhook(db: Database, webhook_id: Any, data: Any) -> Webhook:
    payload = validate(WebhookUpdate, data)
    changes = dump(payload)
    if "url" in changes:
        await resolve_target(changes["url"], allow_private=_allow_private(db))
    async with db.writer() as session:
        webhook = await get_or_404(session, Webhook, webhook_id, KIND, lock=True)
        check_version(webhook, payload.expected_version)
        if changes.get("is_active"):  # re-enabled: the failures that disabled it are behind it
            webhook.disabled_reason = None
            webhook.failing_since = None
        for key, value in changes.items():
            setattr(webhook, key, value)
        if changes:
            touch(webhook)
    return webhook


async def delete_webhook(db: Database, webhook_id: Any) -> None:
    """The endpoint, its pending deliveries and its logs."""
    async with db.writer() as session:
        webhook = await get_or_404(session, Webhook, webhook_id, KIND, lock=True)
        await session.delete(webhook)


async def rotate_secret(db: Database, webhook_id: Any) -> WithSecret:
    """A new secret, effective at once: deliveries from now on (retries included) are signed with it."""
    secret = new_secret()
    async with db.writer() as session:
        webhook = await get_or_404(session, Webhook, webhook_id, KIND, lock=True)
        webhook.secret_encrypted = seal(db.settings, secret)
        touch(webhook)
    return WithSecret(webhook, secret)


async def send_test_event(db: Database, webhook_id: Any) -> WebhookDelivery:
    """Queue a `ping` event for this endpoint only; its delivery shows in the logs like any other."""
    async with db.writer() as session:
        webhook = await get_or_404(session, Webhook, webhook_id, KIND)
        if not webhook.is_active:
            raise errors.ValidationFailed.field("is_active", "The endpoint is disabled: activate it first")
        event = new_event(PING, {"webhook_id": str(webhook.id), "url": webhook.url}, webhook_id=webhook.id)
        session.add(event)
        await session.flush([event])
        delivery = WebhookDelivery(webhook_id=webhook.id, event_id=event.id, event_type=PING)
        session.add(delivery)
    return delivery


# ---- deliveries ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryRow:
    """A delivery with the URL of its endpoint, as the logs show it; reads as the delivery otherwise."""

    delivery: WebhookDelivery
    url: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.delivery, name)


async def _with_urls(db: Database, deliveries: list[WebhookDelivery]) -> list[DeliveryRow]:
    ids = {d.webhook_id for d in deliveries}
    urls: dict[uuid.UUID, str] = {}
    if ids:
        async with db.reader() as session:
            urls = dict((await session.execute(select(Webhook.id, Webhook.url).where(Webhook.id.in_(ids)))).all())
    return [DeliveryRow(d, urls.get(d.webhook_id)) for d in deliveries]


def _deliveries(filters: Any) -> Any:
    f = validate(DeliveryFilter, filters or {})
    D = WebhookDelivery
    stmt = whole_table(D)
    if f.webhook_id:
        stmt = stmt.where(D.webhook_id == f.webhook_id)
    if f.event_type:
        stmt = stmt.where(D.event_type == f.event_type)
    if f.status:
        stmt = stmt.where(D.status == f.status)
    if f.created_from:
        stmt = stmt.where(D.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(D.created_at <= f.created_to)
    return stmt


async def list_deliveries(
    db: Database, filters: Any = None, *, args: CursorArgs | OffsetArgs
) -> Page[DeliveryRow] | OffsetPage[DeliveryRow]:
    """Newest first; filterable by endpoint, event type, status and creation time."""
    D = WebhookDelivery
    page = await page_of(db, _deliveries(filters), Sort(D.created_at), D.id, args)
    page.items = await _with_urls(db, page.items)
    return page


async def get_delivery(db: Database, delivery_id: Any) -> DeliveryRow:
    async with db.reader() as session:
        delivery = await get_or_404(session, WebhookDelivery, delivery_id, "Webhook delivery")
    return (await _with_urls(db, [delivery]))[0]


async def count_deliveries(db: Database, filters: Any = None) -> int:
    return await count_of(db, _deliveries(filters))


async def retry_delivery(db: Database, delivery_id: Any) -> DeliveryRow:
    """Back in the queue now, with the same delivery id. A delivery that had used all its attempts
    gets one more; one already delivered is sent again (receivers dedupe on the delivery id)."""
    async with db.writer() as session:
        delivery = await get_or_404(session, WebhookDelivery, parse_id(delivery_id), "Webhook delivery", lock=True)
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = utcnow()
        delivery.lease_until = None
        delivery.updated_at = utcnow()
    return (await _with_urls(db, [delivery]))[0]
