"""`Idempotency-Key` for both transports: POST, PUT, PATCH and DELETE on the REST routes, and GraphQL
mutations. Pure ASGI glue around `resolvers.idempotency`, which holds the rules: this reads the body
(to fingerprint the request), claims the key, and either replays the stored answer (marked
`Idempotent-Replayed: true`, after waiting for it when the first request is still running) or runs
the request and, when it succeeded, stores what it answered.

Keys are namespaced by the authenticated caller (`Principal.client_key`, else the client address),
so the caller is authenticated first; that answer is the request's, so the endpoint does not ask
again. Credentials that fail authentication cannot write anything: the request then runs as if no
key had been sent, and is refused as any other (a key revoked since the first answer gets 401, not
that answer).

A GraphQL query sent with a key runs as usual: reading twice is already safe, and a replayed read
would be stale. Sign-in, token and API-key creation run as usual too: their answers carry secrets,
which are not kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from graphql import FieldNode, OperationType
from starlette.requests import Request

from stateset_gateway import errors
from stateset_gateway.db.engine import Database
from stateset_gateway.http.authentication import principal_for_request
from stateset_gateway.http.body import read_body, replaying
from stateset_gateway.http.state import state_of
from stateset_gateway.resolvers import idempotency

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Answers that carry secrets (tokens, a new key) are never stored: sign-in and key creation run as if
# no key had been sent.
UNSTORED_PREFIXES = ("/api/v1/auth/",)
UNSTORED_MUTATIONS = frozenset({"register", "login", "refreshToken", "logout", "createApiKey"})
HEADER = b"idempotency-key"


class IdempotencyMiddleware:
    """`max_run`: how long a first request may run (the request timeout), so how long a retry
    arriving meanwhile waits for its answer."""

    def __init__(self, app: Any, *, max_run: timedelta) -> None:
        self.app = app
        self.max_run = max_run
        self.in_flight = idempotency.InFlight()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        raw_key = next((v for k, v in scope.get("headers", ()) if k == HEADER), None)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        idempotency.check_key(key)
        body = await read_body(receive)
        replay_body = replaying(body, receive)
        if scope["path"].startswith(UNSTORED_PREFIXES) or (scope["path"] == "/graphql"
                                                           and not await _is_stored_mutation(scope, body)):
            await self.app(scope, replay_body, send)
            return

        try:
            principal = await principal_for_request(Request(scope))
        except errors.DomainError:  # refused below as any request with these credentials is
            await self.app(scope, replay_body, send)
            return
        db = scope["app"].state.db
        client = state_of(scope).caller.namespace(principal)
        request = idempotency.fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        stored = await idempotency.claim(db, self.in_flight, client, key, request, max_run=self.max_run)
        if stored is not None:
            await _send_stored(send, stored)
            return
        try:
            await self._run_first(scope, replay_body, send, db, client, key)
        finally:  # whatever the outcome, retries waiting here look again
            self.in_flight.finish(client, key)

    async def _run_first(self, scope: dict[str, Any], receive: Any, send: Any, db: Database, client: str,
                         key: str) -> None:
        status = 500
        content_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = next((v.decode("latin-1") for k, v in message.get("headers", ())
                                     if k.lower() == b"content-type"), None)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        # An exception, a cancellation (timeout, client gone) or a 5xx leaves the outcome unknown: the
        # write may have committed. The key then stays claimed without an answer until it expires.
        await self.app(scope, receive, capture)
        answer = b"".join(chunks)
        outcome = _outcome(status, answer, graphql=scope["path"] == "/graphql")
        if outcome == "store":
            await idempotency.complete(db, client, key, idempotency.StoredResponse(status, content_type, answer))
        elif outcome == "release":
            await idempotency.release(db, client, key)


async def _is_stored_mutation(scope: dict[str, Any], body: bytes) -> bool:
    """Whether a /graphql body is a mutation whose answer is kept. The GraphQL endpoint says which
    operation the body names, however it names it (text, persisted hash, trusted document id)."""
    operation = await scope["app"].state.graphql.operation_of(Request(scope), body)
    if operation is None or operation.operation != OperationType.MUTATION:
        return False
    fields = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    return not fields & UNSTORED_MUTATIONS


def _outcome(status: int, answer: bytes, *, graphql: bool) -> str:
    """"store" a success; "release" a request that certainly wrote nothing (a 4xx: operations roll
    back whole; a GraphQL answer whose every root field failed with a 4xx error); "keep" otherwise."""
    if status >= 500:
        return "keep"
    if not graphql:
        return "store" if status < 400 else "release"
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return "keep"
    problems = body.get("errors") or []
    if not problems:
        return "store" if status < 400 else "release"
    if any(p.get("extensions", {}).get("status", 500) >= 500 for p in problems):
        return "keep"
    data = body.get("data")
    nothing_done = data is None or all(value is None for value in data.values())
    return "release" if nothing_done else "store"


async def _send_stored(send: Any, stored: idempotency.StoredResponse) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if stored.status_code not in (204, 304):  # these carry no body, nor its length (RFC 9110)
        headers.append((b"content-length", str(len(stored.body)).encode()))
    if stored.content_type:
        headers.append((b"content-type", stored.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
