"""Webhooks: the endpoints clients register, the outbox of events, and one delivery per (event, endpoint).

`webhook_events` is the transactional outbox: operations add a row in their own transaction, so an
event exists exactly when its change committed. The dispatcher fans each event out into
`webhook_deliveries` (one per subscribed endpoint) and sends those, claiming rows with a lease
(`lease_until`) so two dispatchers never send one delivery at the same time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from stateset_gateway.db.models.base import Versioned
from stateset_gateway.db.types import UTCDateTime, new_id, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Webhook(Versioned, table=True):
    __tablename__ = "webhooks"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    url: str = Field(max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] = Field(default_factory=lambda: ["*"], sa_type=JSON)
    is_active: bool = Field(default=True)
    secret_encrypted: str = Field(sa_type=Text, description="The signing secret, encrypted with a key derived "
                                                            "from the server secret; never shown after creation.")
    disabled_reason: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                           description="First failure of the current run of failures.")


class WebhookEvent(SQLModel, table=True):
    """One event, as the body every delivery of it sends (`{"id", "type", "created_at", "data"}`)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_fanned_out_created_at", "fanned_out", "created_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_type: str = Field(max_length=64)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    fanned_out: bool = Field(default=False, description="Deliveries have been made for the subscribed endpoints.")
    webhook_id: uuid.UUID | None = Field(default=None, foreign_key="webhooks.id", ondelete="CASCADE",
                                         description="Only for this endpoint (the test `ping`).")


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: its id is the delivery id every attempt sends."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_created_at", "webhook_id", "created_at"),
        Index("ix_webhook_deliveries_created_at_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    webhook_id: uuid.UUID = Field(foreign_key="webhooks.id", ondelete="CASCADE")
    event_id: uuid.UUID = Field(foreign_key="webhook_events.id", ondelete="CASCADE", index=True)
    event_type: str = Field(max_length=64)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                         description="Claimed by a dispatcher until then.")
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=1000)
    last_response_ms: int | None = Field(default=None)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
