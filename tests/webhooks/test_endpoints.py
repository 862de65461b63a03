"""Managing endpoints over REST and GraphQL: the secret is shown once and stored encrypted, URLs and
event types are checked, and private targets are refused outside development."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from stateset_gateway.app import create_app
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import Webhook
from stateset_gateway.resolvers.webhooks import unseal
from tests.support.graphql_client import GraphQLClient
from tests.support.rest_api import Api


async def _stored(db: Database, webhook_id: str) -> Webhook:
    async with db.reader() as session:
        row = await session.get(Webhook, uuid.UUID(webhook_id))
    assert row is not None
    return row


async def test_the_secret_is_shown_once_and_stored_encrypted(api: Api, db: Database, settings: Settings) -> None:
    created = await api.ok("POST", "/webhooks", 201, json={"url": "https://example.com/hooks",
                                                           "description": "fulfilment"})
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["event_types"] == ["*"] and created["is_active"] is True and created["version"] == 1
    shown = await api.call("GET", f"/webhooks/{created['id']}")
    listed = await api.call("GET", "/webhooks")
    assert "secret" not in shown.json()["data"] and secret not in shown.text and secret not in listed.text
    assert listed.json()["data"]["total"] == 1

    row = await _stored(db, created["id"])
    assert secret not in row.secret_encrypted and secret[6:] not in row.secret_encrypted
    assert unseal(settings, row.secret_encrypted) == secret  # only with the server secret
    other = settings.model_copy(update={"auth": settings.auth.model_copy(update={"jwt_secret": SecretStr("x" * 40)})})
    with pytest.raises(RuntimeError, match="rotate"):
        unseal(other, row.secret_encrypted)

    rotated = await api.ok("POST", f"/webhooks/{created['id']}/rotate-secret")
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret and rotated["version"] == 2
    assert unseal(settings, (await _stored(db, created["id"])).secret_encrypted) == rotated["secret"]


async def test_update_delete_and_what_is_refused(api: Api) -> None:
    hook = await api.ok("POST", "/webhooks", 201, json={"url": "https://example.com/a",
                                                        "event_types": ["order.created", "shipment.*"]})
    assert hook["event_types"] == ["order.created", "shipment.*"]
    changed = await api.ok("PUT", f"/webhooks/{hook['id']}", json={"event_types": ["return.completed"],
                                                                   "is_active": False, "expected_version": 1})
    assert (changed["event_types"], changed["is_active"], changed["version"]) == (["return.completed"], False, 2)
    await api.error("PUT", f"/webhooks/{hook['id']}", 409, "VERSION_CONFLICT", json={"expected_version": 1})
    await api.error("POST", f"/webhooks/{hook['id']}/test", 400, "VALIDATION_ERROR")  # disabled

    bad = await api.error("POST", "/webhooks", 400, "VALIDATION_ERROR", json={"url": "ftp://example.com/x"})
    assert "url" in bad["details"]
    bad = await api.error("POST", "/webhooks", 400, "VALIDATION_ERROR",
                          json={"url": "https://example.com", "event_types": ["order.exploded"]})
    assert "Unknown event type 'order.exploded'" in bad["details"]["event_types"][0]
    await api.error("POST", "/webhooks", 400, "VALIDATION_ERROR", json={"url": "https://example.com", "event_types": []})
    await api.error("POST", "/webhooks", 400, "VALIDATION_ERROR", json={})
    await api.error("PUT", f"/webhooks/{hook['id']}", 400, "VALIDATION_ERROR", json={"url": None})

    assert (await api.call("DELETE", f"/webhooks/{hook['id']}")).status_code == 204
    await api.error("GET", f"/webhooks/{hook['id']}", 404, "NOT_FOUND")
    await api.error("POST", f"/webhooks/{hook['id']}/rotate-secret", 404, "NOT_FOUND")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/hooks", "https://10.1.2.3/x", "http://169.254.169.254/latest",
    "http://[::1]/x", "http://192.168.0.10/x", "http://0.0.0.0/x",
])
async def test_private_targets_are_refused_outside_development(
    settings: Settings, db: Database, admin_headers: dict[str, str], url: str
) -> None:
    production = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"allow_private_targets": False})})
    app = create_app(production)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client, admin_headers, db)
        refused = await api.error("POST", "/webhooks", 400, "VALIDATION_ERROR", json={"url": url})
        assert "private" in refused["details"]["url"][0] or "resolve" in refused["details"]["url"][0]
        assert (await api.ok("GET", "/webhooks"))["total"] == 0


async def test_graphql_manages_webhooks_and_reads_the_log(gql: GraphQLClient) -> None:
    fields = "id url eventTypes isActive disabledReason version"
    created = (await gql(f"mutation($i: CreateWebhookInput!) {{ createWebhook(input: $i) {{ secret webhook {{ {fields} }} }} }}",
                         {"i": {"url": "https://example.com/gql", "eventTypes": ["order.*"]}}))["createWebhook"]
    hook = created["webhook"]
    assert created["secret"].startswith("whsec_") and hook["eventTypes"] == ["order.*"] and hook["isActive"]
    listed = (await gql(f"{{ webhooks(first: 5) {{ totalCount nodes {{ {fields} }} }} }}"))["webhooks"]
    assert listed == {"totalCount": 1, "nodes": [hook]}
    assert (await gql(f"query($id: ID!) {{ webhook(id: $id) {{ {fields} }} }}", {"id": hook["id"]}))["webhook"] == hook

    updated = (await gql("mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) "
                         "{ description version } }", {"id": hook["id"], "i": {"description": "ops"}}))["updateWebhook"]
    assert updated == {"description": "ops", "version": 2}
    rotated = (await gql("mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                         {"id": hook["id"]}))["rotateWebhookSecret"]
    assert rotated["secret"] != created["secret"]

    ping = (await gql("mutation($id: ID!) { testWebhook(id: $id) { id eventType status attempts eventId } }",
                      {"id": hook["id"]}))["testWebhook"]
    assert ping["eventType"] == "ping" and ping["status"] == "PENDING" and ping["attempts"] == 0
    log = (await gql("query($f: WebhookDeliveryFilter) { webhookDeliveries(filter: $f, first: 10) { totalCount "
                     "nodes { id url eventType eventId status lastStatusCode lastError responseTimeMs nextAttemptAt } } }",
                     {"f": {"webhookId": hook["id"], "status": "PENDING"}}))["webhookDeliveries"]
    assert log["totalCount"] == 1
    (entry,) = log["nodes"]
    assert entry["id"] == ping["id"] and entry["url"] == "https://example.com/gql" and entry["eventId"] == ping["eventId"]
    retried = (await gql("mutation($id: ID!) { retryWebhookDelivery(id: $id) { id status } }",
                         {"id": ping["id"]}))["retryWebhookDelivery"]
    assert retried == {"id": ping["id"], "status": "PENDING"}

    error = await gql.error("mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }",
                            {"i": {"url": "mailto:ops@example.com"}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert (await gql("mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": hook["id"]}))["deleteWebhook"] is True
    assert (await gql("{ webhookDeliveries { totalCount } }"))["webhookDeliveries"]["totalCount"] == 0


async def test_webhooks_need_webhooks_manage(client: httpx.AsyncClient, auth_headers: Any) -> None:
    reader = await auth_headers(["orders:read", "orders:create"])
    denied = await client.get("/api/v1/admin/webhooks/logs", headers=reader)
    assert denied.status_code == 403 and denied.json()["error"]["details"]["required_permission"] == "webhooks:manage"
    allowed = await client.get("/api/v1/admin/webhooks/logs", headers=await auth_headers(["webhooks:manage"]))
    assert allowed.status_code == 200


def test_tls_verification_can_be_off_only_in_development() -> None:
    from stateset_gateway.config import ConfigError, load_settings

    assert load_settings(tls_verify=False).tls_verify is False  # development
    with pytest.raises(ConfigError, match="APP__TLS_VERIFY"):
        load_settings(env="production", auth={"jwt_secret": "s" * 40}, tls_verify=False)
    production = load_settings(env="production", auth={"jwt_secret": "s" * 40})
    assert production.webhooks.private_targets_allowed(production.is_development) is False
    assert load_settings().webhooks.private_targets_allowed(True) is True
