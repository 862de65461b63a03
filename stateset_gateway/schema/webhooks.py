"""Webhook queries and mutations, all under `webhooks:manage`: thin, they call resolvers.webhooks."""

from __future__ import annotations

from typing import Any

import strawberry

from stateset_gateway.resolvers import webhooks as ops
from stateset_gateway.schema.common import Connection, GqlInfo, cursor_args, mutation, query, to_input
from stateset_gateway.schema.types.webhooks import (
    CreateWebhookInput,
    UpdateWebhookInput,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryFilter,
    WebhookWithSecret,
)

MANAGE = "webhooks:manage"


@strawberry.type
class WebhookQueries:
    @query(MANAGE, returns=Webhook | None)
    async def webhook(self, info: GqlInfo, id: strawberry.ID) -> Any:
        return await ops.get_webhook(info.context.db, id)

    @query(MANAGE, returns=Connection[Webhook])
    async def webhooks(self, info: GqlInfo, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> Connection[Any]:
        db = info.context.db
        page = await ops.list_webhooks(db, args=cursor_args(info, first, after, last, before))
        return Connection(page=page, counter=lambda: ops.count_webhooks(db))

    @query(MANAGE, returns=Connection[WebhookDelivery],
           description="The delivery log, newest first: the REST /admin/webhooks/logs.")
    async def webhook_deliveries(
        self, info: GqlInfo, filter: WebhookDeliveryFilter | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[Any]:
        db, filters = info.context.db, to_input(filter)
        page = await ops.list_deliveries(db, filters, args=cursor_args(info, first, after, last, before))
        return Connection(page=page, counter=lambda: ops.count_deliveries(db, filters))


@strawberry.type
class WebhookMutations:
    @mutation(MANAGE, returns=WebhookWithSecret, description="Its signing secret is in the answer, this once.")
    async def create_webhook(self, info: GqlInfo, input: CreateWebhookInput) -> Any:
        return await ops.create_webhook(info.context.db, to_input(input))

    @mutation(MANAGE, returns=Webhook)
    async def update_webhook(self, info: GqlInfo, id: strawberry.ID, input: UpdateWebhookInput) -> Any:
        return await ops.update_webhook(info.context.db, id, to_input(input))

    @mutation(MANAGE)
    async def delete_webhook(self, info: GqlInfo, id: strawberry.ID) -> bool:
        await ops.delete_webhook(info.context.db, id)
        return True

    @mutation(MANAGE, returns=WebhookWithSecret, description="A new secret, shown this once; the old one stops.")
    async def rotate_webhook_secret(self, info: GqlInfo, id: strawberry.ID) -> Any:
        return await ops.rotate_secret(info.context.db, id)

    @mutation(MANAGE, returns=WebhookDelivery, description="Queue a ping event for this endpoint.")
    async def test_webhook(self, info: GqlInfo, id: strawberry.ID) -> Any:
        return ops.DeliveryRow(await ops.send_test_event(info.context.db, id), None)

    @mutation(MANAGE, returns=WebhookDelivery, description="Send a delivery again now, with the same delivery id.")
    async def retry_webhook_delivery(self, info: GqlInfo, id: strawberry.ID) -> Any:
        return await ops.retry_delivery(info.context.db, id)
