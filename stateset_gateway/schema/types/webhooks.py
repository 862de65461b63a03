"""Webhook endpoints and the log of their deliveries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import derived, webhooks
from stateset_gateway.schema import relations
from stateset_gateway.schema.inputs import input_type

WebhookDeliveryStatus = strawberry.enum(models.DeliveryStatus, name="WebhookDeliveryStatus")
CreateWebhookInput = input_type(webhooks.WebhookCreate, "CreateWebhookInput")
UpdateWebhookInput = input_type(webhooks.WebhookUpdate, "UpdateWebhookInput")
WebhookDeliveryFilter = input_type(webhooks.DeliveryFilter, "WebhookDeliveryFilter")


@strawberry.type
class Webhook:
    id: strawberry.ID
    url: str
    description: str | None
    event_types: list[str]
    is_active: bool
    disabled_reason: str | None = strawberry.field(description="Why it was disabled automatically, if it was.")
    created_at: datetime
    updated_at: datetime
    version: int


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Sent as X-StateSet-Delivery-Id and webhook-id, on every attempt.")
    webhook_id: strawberry.ID
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_response_ms: int | None = strawberry.field(description="How long the last attempt took to be answered.")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime

    event_id = relations.derived(derived.event_id, str, reads=("event_id",),
                                 description="The event's id, as its body's `id`.")
