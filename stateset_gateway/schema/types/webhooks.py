"""Webhook endpoints and the log of their deliveries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import webhooks
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
class WebhookWithSecret:
    """The answer of createWebhook and rotateWebhookSecret: the only time the secret is shown."""

    webhook: Webhook
    secret: str


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Sent as X-StateSet-Delivery-Id and webhook-id, on every attempt.")
    webhook_id: strawberry.ID
    event_type: str
    url: str | None
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def event_id(self) -> str:
        return f"evt_{self.delivery.event_id.hex}"  # type: ignore[attr-defined]

    @strawberry.field
    def response_time_ms(self) -> int | None:
        return self.last_response_ms  # type: ignore[attr-defined]
