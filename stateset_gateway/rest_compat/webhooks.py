"""/api/v1/webhooks and /api/v1/admin/webhooks: thin adapters over `resolvers.webhooks`, all under
`webhooks:manage`. The signing secret appears only in the answers of create and rotate-secret."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stateset_gateway.db.models import DeliveryStatus
from stateset_gateway.resolvers import representations, webhooks
from stateset_gateway.resolvers.inputs import Instant
from stateset_gateway.rest_compat import envelopes
from stateset_gateway.rest_compat.common import API_PREFIX, DB, Paging, errors_doc, listing, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope, Page, no_content
from stateset_gateway.rest_compat.models import DeliveryOut, WebhookOut, WebhookSecretOut

router = APIRouter(prefix=API_PREFIX, tags=["webhooks"])
MANAGE = [Depends(requires("webhooks:manage"))]


def _with_secret(issued: webhooks.WithSecret) -> dict[str, Any]:
    return representations.webhook(issued.webhook) | {"secret": issued.secret}


def _delivery(row: webhooks.DeliveryRow) -> dict[str, Any]:
    return representations.delivery(row.delivery, row.url)


@router.get("/webhooks", response_model=Envelope[Page[WebhookOut]], responses=errors_doc(), dependencies=MANAGE)
async def list_webhooks(request: Request, db: DB, paging: Paging) -> Response:
    return listing(request, representations.webhook, await webhooks.list_webhooks(db, args=paging))


@router.post("/webhooks", status_code=201, response_model=Envelope[WebhookSecretOut], responses=errors_doc(), dependencies=MANAGE)
async def create_webhook(request: Request, db: DB, body: webhooks.WebhookCreate) -> Response:
    """Register an endpoint. The answer holds its signing `secret`, shown this once. Outside
    development a URL on a private, loopback or link-local address answers 400."""
    return envelopes.ok(_with_secret(await webhooks.create_webhook(db, body)), request, status=201)


@router.get("/webhooks/{webhook_id}", response_model=Envelope[WebhookOut], responses=errors_doc(404), dependencies=MANAGE)
async def get_webhook(request: Request, db: DB, webhook_id: uuid.UUID) -> Response:
    return single(request, representations.webhook, await webhooks.get_webhook(db, webhook_id))


@router.put("/webhooks/{webhook_id}", response_model=Envelope[WebhookOut], responses=errors_doc(404, 409), dependencies=MANAGE)
async def update_webhook(request: Request, db: DB, webhook_id: uuid.UUID, body: webhooks.WebhookUpdate) -> Response:
    """Change the given fields; `is_active: true` re-enables an endpoint that was disabled."""
    return single(request, representations.webhook, await webhooks.update_webhook(db, webhook_id, body))


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response, responses=errors_doc(404), dependencies=MANAGE)
async def delete_webhook(db: DB, webhook_id: uuid.UUID) -> Response:
    """The endpoint, its pending deliveries and their logs."""
    await webhooks.delete_webhook(db, webhook_id)
    return no_content()


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=Envelope[WebhookSecretOut],
             responses=errors_doc(404), dependencies=MANAGE)
async def rotate_secret(request: Request, db: DB, webhook_id: uuid.UUID) -> Response:
    """A new signing secret, shown this once and used from the next attempt on; the old one stops working."""
    return envelopes.ok(_with_secret(await webhooks.rotate_secret(db, webhook_id)), request)


@router.post("/webhooks/{webhook_id}/test", status_code=202, response_model=Envelope[DeliveryOut],
             responses=errors_doc(404), dependencies=MANAGE)
async def test_webhook(request: Request, db: DB, webhook_id: uuid.UUID) -> Response:
    """Queue a `ping` event for this endpoint; follow it in /admin/webhooks/logs."""
    delivery = await webhooks.send_test_event(db, webhook_id)
    return envelopes.ok(_delivery(webhooks.DeliveryRow(delivery, None)), request, status=202)


@router.get("/admin/webhooks/logs", response_model=Envelope[Page[DeliveryOut]], responses=errors_doc(), dependencies=MANAGE)
async def delivery_logs(
    request: Request,
    db: DB,
    paging: Paging,
    webhook_id: uuid.UUID | None = None,
    event_type: Annotated[str | None, Query(max_length=64, examples=["order.created"])] = None,
    status: DeliveryStatus | None = None,
    created_from: Annotated[Instant | None, Query(alias="from", description="Created at or after (RFC3339).")] = None,
    created_to: Annotated[Instant | None, Query(alias="to", description="Created at or before (RFC3339).")] = None,
) -> Response:
    """Deliveries, newest first: event, URL, attempts, last HTTP status and error, response time, next attempt."""
    filters = {"webhook_id": webhook_id, "event_type": event_type, "status": status,
               "created_from": created_from, "created_to": created_to}
    return listing(request, _delivery, await webhooks.list_deliveries(db, filters, args=paging))


@router.post("/admin/webhooks/{delivery_id}/retry", status_code=202, response_model=Envelope[DeliveryOut],
             responses=errors_doc(404), dependencies=MANAGE)
async def retry_delivery(request: Request, db: DB, delivery_id: uuid.UUID) -> Response:
    """Put a delivery (by its id, from the logs) back in the queue now, with the same delivery id."""
    return envelopes.ok(_delivery(await webhooks.retry_delivery(db, delivery_id)), request, status=202)
