"""`Idempotency-Key` as CONTRACT section 6 describes it, through REST and GraphQL: a retried write is
answered from the first one, a reused key with another request is 409, keys belong to one client."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from stateset_gateway.app import create_app
from stateset_gateway.auth.api_keys import authenticate_api_key
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import IdempotencyRecord
from stateset_gateway.db.types import utcnow
from stateset_gateway.resolvers import idempotency
from tests.support.auth import AuthHeaders

CUSTOMERS = "/api/v1/customers"
CREATE_CUSTOMER = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id email } }"


def ada(email: str = "ada@example.com") -> dict[str, str]:
    return {"email": email, "first_name": "Ada", "last_name": "Lovelace"}


async def customer_count(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    body = (await client.get(CUSTOMERS, headers=headers, params={"limit": 100})).json()
    return int(body["data"]["total"])


async def test_a_retried_post_is_answered_from_the_first_and_writes_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "create-ada-1"}
    first = await client.post(CUSTOMERS, json=ada(), headers=headers)
    retry = await client.post(CUSTOMERS, json=ada(), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]  # a new request, an old answer
    assert await customer_count(client, admin_headers) == 1


async def test_the_same_key_with_another_request_is_a_conflict(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "create-ada-2"}
    assert (await client.post(CUSTOMERS, json=ada(), headers=headers)).status_code == 201
    other = await client.post(CUSTOMERS, json=ada("grace@example.com"), headers=headers)
    assert other.status_code == 409
    error = other.json()["error"]
    assert error["code"] == "DUPLICATE_ENTRY"
    assert error["details"] == {"field": "Idempotency-Key", "value": "create-ada-2"}
    assert await customer_count(client, admin_headers) == 1


async def test_graphql_mutations_replay_and_queries_run_every_time(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "gql-ada"}
    payload = {"query": CREATE_CUSTOMER, "variables": {"i": {"email": "ada@example.com", "firstName": "Ada",
                                                             "lastName": "Lovelace"}}}
    first = await client.post("/graphql", json=payload, headers=headers)
    retry = await client.post("/graphql", json=payload, headers=headers)
    assert first.json()["data"]["createCustomer"]["id"] == retry.json()["data"]["createCustomer"]["id"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert await customer_count(client, admin_headers) == 1

    query = {"query": "{ customers(first: 5) { totalCount } }"}
    reads = [await client.post("/graphql", json=query, headers={**admin_headers, "Idempotency-Key": "read"})
             for _ in range(2)]
    assert all("idempotent-replayed" not in r.headers for r in reads)
    assert reads[1].json()["data"]["customers"]["totalCount"] == 1


async def test_a_mutation_sent_by_its_persisted_hash_replays_too(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """A client using automatic persisted queries sends the mutation's hash alone once the server
    knows it; its retry must still be answered from the first attempt, not run again."""
    digest = hashlib.sha256(CREATE_CUSTOMER.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    variables = {"i": {"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper"}}
    registered = await client.post("/graphql", headers=admin_headers, json={
        "query": CREATE_CUSTOMER, "extensions": extensions,
        "variables": {"i": {**variables["i"], "email": "first@example.com"}}})
    assert registered.json()["data"]["createCustomer"]["email"] == "first@example.com"

    headers = {**admin_headers, "Idempotency-Key": "apq-grace"}
    by_hash = {"extensions": extensions, "variables": variables}
    first = await client.post("/graphql", json=by_hash, headers=headers)
    retry = await client.post("/graphql", json=by_hash, headers=headers)
    assert first.json()["data"]["createCustomer"]["email"] == "grace@example.com"
    assert retry.headers["idempotent-replayed"] == "true" and retry.json() == first.json()
    assert await customer_count(client, admin_headers) == 2


async def test_keys_belong_to_one_client(client: httpx.AsyncClient, auth_headers: AuthHeaders) -> None:
    first, second = await auth_headers(["customers:*"]), await auth_headers(["customers:*"])
    a = await client.post(CUSTOMERS, json=ada(), headers={**first, "Idempotency-Key": "shared"})
    b = await client.post(CUSTOMERS, json=ada("grace@example.com"), headers={**second, "Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201 and "idempotent-replayed" not in b.headers
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_a_failed_request_leaves_the_key_free_for_the_corrected_one(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "fix-and-retry"}
    failed = await client.post(CUSTOMERS, json={"email": "not-an-email"}, headers=headers)
    assert failed.status_code in (400, 422)
    corrected = await client.post(CUSTOMERS, json=ada(), headers=headers)
    assert corrected.status_code == 201 and "idempotent-replayed" not in corrected.headers


async def test_a_key_past_its_first_request_s_time_limit_is_a_conflict_and_an_expired_one_is_new(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str], app: Any
) -> None:
    owner = (await authenticate_api_key(db, admin_headers["X-API-Key"])).client_key
    body = orjson.dumps(ada())
    running = idempotency.fingerprint("POST", CUSTOMERS, b"", body)
    assert await idempotency.claim(db, idempotency.InFlight(), owner, "busy", running,
                                   max_run=timedelta(seconds=30)) is None  # as if another instance ran it
    async with db.writer() as session:  # ... longer ago than a request may run: its outcome is unknown
        await session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(seconds=31)))
    headers = {**admin_headers, "Idempotency-Key": "busy", "Content-Type": "application/json"}
    busy = await client.post(CUSTOMERS, content=body, headers=headers)
    assert busy.status_code == 409 and "without a known outcome" in busy.json()["error"]["message"]

    async with db.writer() as session:  # ten minutes later
        await session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    later = await client.post(CUSTOMERS, content=body, headers=headers)
    assert later.status_code == 201


async def test_instances_share_keys_through_the_database(
    settings: Any, db: Database, admin_headers: dict[str, str]
) -> None:
    answers = []
    for _ in range(2):  # two gateways on one database
        instance = create_app(settings)
        async with instance.router.lifespan_context(instance):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=instance), base_url="http://t") as c:
                answers.append(await c.post(CUSTOMERS, json=ada(),
                                            headers={**admin_headers, "Idempotency-Key": "two-instances"}))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
async def test_malformed_keys_are_refused(client: httpx.AsyncClient, admin_headers: dict[str, str], key: str) -> None:
    response = await client.post(CUSTOMERS, json=ada(), headers={**admin_headers, "Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "Idempotency-Key" in response.json()["error"]["details"]


async def test_concurrent_retries_write_once(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Idempotency-Key": "burst"}
    answers = await asyncio.gather(*(client.post(CUSTOMERS, json=ada(), headers=headers) for _ in range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1
    created = {a.json()["data"]["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # every 201 is the one write, first-hand or replayed
    assert all("still being processed" in a.json()["error"]["message"] for a in answers if a.status_code == 409)
    assert await customer_count(client, admin_headers) == 1


async def test_an_unknown_outcome_keeps_the_key_so_a_retry_cannot_write_twice(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    async def crash_after_writing() -> None:
        raise RuntimeError("the write may have committed before this")

    app.add_api_route("/api/v1/_crash", crash_after_writing, methods=["POST"])
    headers = {**admin_headers, "Idempotency-Key": "unknown-outcome"}
    first = await client.post("/api/v1/_crash", json={}, headers=headers)
    retry = await client.post("/api/v1/_crash", json={}, headers=headers)
    assert first.status_code == 500
    assert retry.status_code == 409 and "without a known outcome" in retry.json()["error"]["message"]


async def test_a_graphql_mutation_refused_whole_frees_its_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "gql-fix"}

    def create(email: str) -> dict[str, Any]:
        return {"query": CREATE_CUSTOMER, "variables": {"i": {"email": email, "firstName": "A", "lastName": "L"}}}

    refused = await client.post("/graphql", json=create("not-an-email"), headers=headers)
    assert refused.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    corrected = await client.post("/graphql", json=create("ada@example.com"), headers=headers)
    assert corrected.json()["data"]["createCustomer"]["email"] == "ada@example.com"
    assert "idempotent-replayed" not in corrected.headers


async def test_answers_carrying_secrets_are_never_stored(client: httpx.AsyncClient) -> None:
    account = {"email": "keyed@example.com", "password": "correct horse"}
    assert (await client.post("/api/v1/auth/register", json=account)).status_code == 201
    logins = [await client.post("/api/v1/auth/login", json=account, headers={"Idempotency-Key": "sign-in"})
              for _ in range(2)]
    assert [r.status_code for r in logins] == [200, 200]
    assert "idempotent-replayed" not in logins[1].headers
    assert logins[0].json()["data"]["access_token"] != logins[1].json()["data"]["access_token"]


async def test_a_revoked_key_gets_401_not_the_stored_answer(
    client: httpx.AsyncClient, db: Database, auth_headers: AuthHeaders
) -> None:
    from stateset_gateway.auth.api_keys import hash_key, revoke_api_key
    from stateset_gateway.db.models import ApiKey

    headers = {**await auth_headers(["customers:*"]), "Idempotency-Key": "then-revoked"}
    assert (await client.post(CUSTOMERS, json=ada(), headers=headers)).status_code == 201
    async with db.reader() as session:
        record = (await session.execute(
            select(ApiKey).where(ApiKey.key_hash == hash_key(headers["X-API-Key"])))).scalar_one()
    await revoke_api_key(db, record.id)
    retry = await client.post(CUSTOMERS, json=ada(), headers=headers)
    assert retry.status_code == 401 and "idempotent-replayed" not in retry.headers
    assert retry.json()["error"]["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("transport", ["rest", "graphql"])
async def test_a_burst_of_one_request_writes_once_and_every_other_answer_is_its_replay(
    client: httpx.AsyncClient, admin_headers: dict[str, str], transport: str
) -> None:
    """Alike on both transports and databases, whatever the timing: a retry arriving while the first
    request runs waits for its answer."""
    headers = {**admin_headers, "Idempotency-Key": f"burst-{transport}"}
    if transport == "rest":
        request = client.build_request("POST", CUSTOMERS, json=ada(), headers=headers)
    else:
        payload = {"query": CREATE_CUSTOMER, "variables": {"i": {"email": "ada@example.com", "firstName": "Ada",
                                                                 "lastName": "Lovelace"}}}
        request = client.build_request("POST", "/graphql", json=payload, headers=headers)
    answers = await asyncio.gather(*(client.send(request) for _ in range(20)))
    first_hand = [a for a in answers if "idempotent-replayed" not in a.headers]
    assert [a.status_code for a in first_hand] == [201 if transport == "rest" else 200], [a.text for a in answers]
    replayed = [a for a in answers if a.headers.get("idempotent-replayed") == "true"]
    assert len(replayed) == 19
    assert all((r.status_code, r.content) == (first_hand[0].status_code, first_hand[0].content) for r in replayed)
    assert await customer_count(client, admin_headers) == 1


async def test_a_retry_waits_for_the_first_request_running_on_another_instance(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str]
) -> None:
    owner = (await authenticate_api_key(db, admin_headers["X-API-Key"])).client_key
    body = orjson.dumps(ada())
    assert await idempotency.claim(db, idempotency.InFlight(), owner, "elsewhere",
                                   idempotency.fingerprint("POST", CUSTOMERS, b"", body),
                                   max_run=timedelta(seconds=30)) is None  # another instance runs it now
    retry = asyncio.create_task(client.post(CUSTOMERS, content=body, headers={
        **admin_headers, "Idempotency-Key": "elsewhere", "Content-Type": "application/json"}))
    await asyncio.sleep(0.2)
    assert not retry.done()
    answer = idempotency.StoredResponse(201, "application/json", b'{"answered": "elsewhere"}')
    await idempotency.complete(db, owner, "elsewhere", answer)
    replayed = await retry
    assert (replayed.status_code, replayed.content) == (201, answer.body)
    assert replayed.headers["idempotent-replayed"] == "true"
