"""GraphQL subscriptions over WebSocket at /graphql, protocol `graphql-transport-ws` (what GraphiQL,
Apollo Client, urql and graphql-ws speak), answered by an ASGI layer ahead of everything for HTTP.

One socket, one `Connection`:

- `connection_init` within `[subscriptions] connection_init_timeout` (else 4408), once (a second is
  4429), its payload carrying the credentials as HTTP headers would (`X-API-Key`, or
  `Authorization: Bearer ...`; at the top level or under `headers`). They are authenticated by the
  same code as an HTTP request's (`http.authentication`), and again every `auth_recheck_seconds`, so
  a revoked key, an expired token or a logged-out session closes the socket with 4403 within about
  a second. Credentials refused, or more sockets than `max_connections_per_client` for one client
  on this instance: 4403. Then `connection_ack`.
- `subscribe` before the ack: 4401; an id already running: 4409; anything not in the protocol: 4400.
  A subscription is parsed, validated, costed and depth-checked like a query over HTTP and charged
  to the caller's cost budget; refused, it gets an `error` message. Queries and mutations belong on
  HTTP (its rate limit and idempotency apply there): over this socket they get an `error` too.
- Each event runs the client's selection with graphql-core (`next`), with a fresh context, so the
  per-field permissions of the payload are the caller's current ones and nothing is cached between
  events. `complete` from the client stops one subscription.
- `ping` is answered with `pong`; the server pings every `keepalive_seconds`.
- Bounded: at most `max_subscriptions_per_connection` subscriptions per socket, at most
  `send_buffer` messages queued for the socket and `send_buffer` events waiting for each of its
  subscriptions. A client that reads slower than its events arrive fills both and is closed (1013,
  try again later) instead of being queued for without end. Anything unexpected: 4500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable
from enum import IntEnum
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    GraphQLError,
    OperationType,
    create_source_event_stream,
    execute,
    parse,
    validate,
)
from graphql.utilities import get_operation_ast
from starlette.requests import HTTPConnection

from stateset_gateway import errors
from stateset_gateway.auth.caller import Callers
from stateset_gateway.auth.principal import Principal
from stateset_gateway.config import Settings
from stateset_gateway.http.authentication import principal_for_request
from stateset_gateway.http.logs import new_request_id, request_id_var
from stateset_gateway.http.state import SCOPE_KEY, RequestState
from stateset_gateway.schema.cost import operation_cost
from stateset_gateway.schema.errors import error_entry, format_error
from stateset_gateway.schema.http import GraphQLEndpoint, is_awaitable
from stateset_gateway.schema.subscriptions import SubscriptionContext
from stateset_gateway.subscriptions.feed import OutboxFeed
from stateset_gateway.subscriptions.hub import Hub, SlowConsumer

log = logging.getLogger("stateset_gateway.subscriptions")

PATH = "/graphql"
SUBPROTOCOL = "graphql-transport-ws"
CLOSE_WAIT_SECONDS = 1.0  # for a client too slow to take even the close frame

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Close(IntEnum):
    """The close codes of graphql-transport-ws, and the one WebSocket code used beside them."""

    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    CONNECTION_INIT_TIMEOUT = 4408
    SUBSCRIBER_ALREADY_EXISTS = 4409
    TOO_MANY_INIT_REQUESTS = 4429
    INTERNAL_SERVER_ERROR = 4500
    TRY_AGAIN_LATER = 1013  # RFC 6455 registry: a client too slow for its events


class GraphQLWebSocket:
    """The layer: WebSocket requests for /graphql become `Connection`s; everything else passes on."""

    def __init__(self, app: Any, *, settings: Settings, callers: Callers, endpoint: GraphQLEndpoint) -> None:
        self.app = app
        self.settings = settings
        self.limits = settings.subscriptions
        self.callers = callers
        self.endpoint = endpoint
        # The feed reads the outbox only while someone here subscribes.
        self.hub = Hub(self.limits.send_buffer, on_first=lambda: self.feed.start(), on_last=lambda: self.feed.stop())
        self.feed = OutboxFeed(settings, self.hub)
        self.open_by_client: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        await Connection(self, scope, receive, send).run()


class Connection:
    def __init__(self, layer: GraphQLWebSocket, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.layer = layer
        self.limits = layer.limits
        self.scope = scope
        self.receive = receive
        self.send = send
        self.request_id = new_request_id()
        self.outgoing: asyncio.Queue[str] = asyncio.Queue(self.limits.send_buffer)
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.init_received = False
        self.acked = False
        self.client_key: str | None = None
        self.credentials: tuple[list[bytes], list[bytes]] = ([], [])
        self.closing: tuple[int, str] | None = None
        self.done = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        request_id_var.set(self.request_id)
        self.layer.feed.bind(self.scope["app"].state.db)
        if (await self.receive())["type"] != "websocket.connect":
            return
        if SUBPROTOCOL not in self.scope.get("subprotocols", ()):
            await self.send({"type": "websocket.accept"})
            await self._send_close(Close.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await self.send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL})
        self.tasks = [asyncio.create_task(job()) for job in (self._read, self._write, self._init_timeout,
                                                              self._keepalive)]
        try:
            await self.done.wait()
        finally:
            for task in [*self.operations.values(), *self.tasks]:
                task.cancel()
            for task in [*self.operations.values(), *self.tasks]:
                with contextlib.suppress(BaseException):
                    await task
            if self.client_key is not None:
                self.layer.open_by_client[self.client_key] -= 1
                if self.layer.open_by_client[self.client_key] <= 0:
                    del self.layer.open_by_client[self.client_key]
        if self.closing is not None:
            await self._send_close(*self.closing)

    def close(self, code: int, reason: str) -> None:
        """Close the socket with `code` (the first close asked for wins)."""
        if self.closing is None:
            self.closing = (code, reason)
        self.done.set()

    async def _send_close(self, code: int, reason: str) -> None:
        reason = reason.encode()[:123].decode(errors="ignore")  # a close frame's reason is at most 123 bytes
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                await self.send({"type": "websocket.close", "code": int(code), "reason": reason})

    def enqueue(self, message: Message) -> None:
        try:
            self.outgoing.put_nowait(orjson.dumps(message, default=str).decode())
        except asyncio.QueueFull:
            self._overflowed()

    async def _write(self) -> None:
        try:
            while True:
                text = await self.outgoing.get()
                await self.send({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError):  # the client has gone
            self.done.set()

    async def _read(self) -> None:
        try:
            while self.closing is None:
                message = await self.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                try:
                    data = orjson.loads(text)
                except orjson.JSONDecodeError:
                    self.close(Close.BAD_REQUEST, "Invalid message received: not JSON")
                    break
                if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                    self.close(Close.BAD_REQUEST, "Invalid message received: a JSON object with a type")
                    break
                await self._handle(data)
        except Exception:
            log.exception("websocket connection failed")
            self.close(Close.INTERNAL_SERVER_ERROR, "Internal server error")
        finally:
            self.done.set()

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.limits.connection_init_timeout)
        if not self.acked:
            self.close(Close.CONNECTION_INIT_TIMEOUT, "Connection initialisation timeout")

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.limits.keepalive_seconds)
            self.enqueue({"type": "ping"})

    # ---- messages ---------------------------------------------------------------------------

    async def _handle(self, message: Message) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._connection_init(message.get("payload"))
        elif kind == "ping":
            self.enqueue({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                self.close(Close.BAD_REQUEST, "Invalid message received: complete needs an id")
                return
            task = self.operations.pop(operation_id, None)
            if task is not None:
                task.cancel()
        else:
            self.close(Close.BAD_REQUEST, f"Invalid message received: unknown type {kind[:40]!r}")

    async def _connection_init(self, payload: Any) -> None:
        if self.init_received:
            self.close(Close.TOO_MANY_INIT_REQUESTS, "Too many initialisation requests")
            return
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            self.close(Close.BAD_REQUEST, "Invalid message received: the connection_init payload must be an object")
            return
        self.credentials = _credentials(payload or {})
        if not any(self.credentials):
            self.close(Close.FORBIDDEN, "Forbidden: send X-API-Key or Authorization in the connection_init payload")
            return
        try:
            principal = await self._authenticate()
        except errors.DomainError as exc:
            self.close(Close.FORBIDDEN, f"Forbidden: {exc.message}")
            return
        assert principal is not None
        key = principal.client_key
        if self.layer.open_by_client[key] >= self.limits.max_connections_per_client:
            self.close(Close.FORBIDDEN, f"Forbidden: this client already has "
                                        f"{self.limits.max_connections_per_client} connections open")
            return
        self.layer.open_by_client[key] += 1
        self.client_key = key
        self.acked = True
        self.enqueue({"type": "connection_ack"})
        self.tasks.append(asyncio.create_task(self._recheck()))

    async def _authenticate(self) -> Principal | None:
        """The credentials of connection_init, authenticated as an HTTP request's would be. The
        socket's state is replaced only once they pass, so every context made from then on (each
        event's) sees the principal as it is now."""
        api_keys, authorizations = self.credentials
        state = RequestState(self.request_id, self.layer.callers.identify(api_keys, authorizations,
                                                                            self.scope.get("client")))
        principal = await principal_for_request(HTTPConnection({**self.scope, SCOPE_KEY: state}))
        self.scope[SCOPE_KEY] = state
        return principal

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self.limits.auth_recheck_seconds)
            try:
                await self._authenticate()
            except errors.DomainError as exc:
                self.close(Close.FORBIDDEN, f"Forbidden: {exc.message}")
                return
            except Exception:  # the database is unreachable: keep the socket, check again next time
                log.warning("could not re-check a subscriber's credentials", exc_info=True)

    async def _subscribe(self, message: Message) -> None:
        if not self.acked:
            self.close(Close.UNAUTHORIZED, "Unauthorized")
            return
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict) \
                or not isinstance(payload.get("query"), str):
            self.close(Close.BAD_REQUEST, "Invalid message received: subscribe needs an id and a payload with a query")
            return
        if operation_id in self.operations:
            self.close(Close.SUBSCRIBER_ALREADY_EXISTS, f"Subscriber for {operation_id[:80]} already exists")
            return
        variables, operation_name = payload.get("variables"), payload.get("operationName")
        if variables is not None and not isinstance(variables, dict) or \
                operation_name is not None and not isinstance(operation_name, str):
            self.close(Close.BAD_REQUEST, "Invalid message received: variables must be an object, "
                                          "operationName a string")
            return
        if len(self.operations) >= self.limits.max_subscriptions_per_connection:
            limit = self.limits.max_subscriptions_per_connection
            self._refuse(operation_id, errors.RateLimitExceeded(
                1, f"This connection already runs {limit} subscriptions; complete one first", {"limit": limit}))
            return
        source = await self._source(operation_id, payload["query"], variables, operation_name)
        if source is not None:
            self.operations[operation_id] = asyncio.create_task(
                self._stream(operation_id, *source, variables, operation_name))

    def _refuse(self, operation_id: str, error: errors.DomainError) -> None:
        self.enqueue({"id": operation_id, "type": "error", "payload": [error_entry(error, self.request_id)]})

    def _context(self) -> SubscriptionContext:
        app = self.scope["app"]
        return SubscriptionContext(request=HTTPConnection(self.scope),  # type: ignore[arg-type]
                                   db=app.state.db, settings=app.state.settings, events=self.layer.hub,
                                   on_overflow=self._overflowed)

    def _overflowed(self) -> None:
        self.close(Close.TRY_AGAIN_LATER, "Too slow: events for this socket filled its buffers")

    async def _source(self, operation_id: str, query: str, variables: dict[str, Any] | None,
                      operation_name: str | None) -> tuple[AsyncIterable[Any], DocumentNode] | None:
        """The subscription's source stream and document, or None once refused with an `error` message."""
        endpoint = self.layer.endpoint
        limits = endpoint.limits
        try:
            document = parse(query, max_tokens=limits.max_tokens)
        except GraphQLError as exc:
            return self._errors(operation_id, [exc])
        problems = validate(endpoint.schema, document)
        if problems:
            return self._errors(operation_id, problems)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            self._refuse(operation_id, errors.ValidationFailed(
                {}, "Unknown operation name or several operations without operationName"))
            return None
        if operation.operation != OperationType.SUBSCRIPTION:
            self._refuse(operation_id, errors.ValidationFailed(
                {}, "Only subscriptions run over this socket; send queries and mutations over HTTP (POST /graphql)"))
            return None
        cost = operation_cost(endpoint.schema, document, operation, variables, limits.default_page_size)
        if cost.cost > limits.max_cost or cost.depth > limits.max_depth:
            too = (f"cost {cost.cost} exceeds the maximum of {limits.max_cost}" if cost.cost > limits.max_cost
                   else f"depth {cost.depth} exceeds the maximum of {limits.max_depth}")
            self._refuse(operation_id, errors.QueryTooComplex(
                f"Query is too complex: {too}; ask for smaller pages or fewer levels",
                {"cost": cost.cost, "max_cost": limits.max_cost, "depth": cost.depth, "max_depth": limits.max_depth}))
            return None
        if endpoint.budget is not None and cost.cost > 0:
            state: RequestState = self.scope[SCOPE_KEY]
            decision = await endpoint.budget.hit(state.caller.budget_key(), cost.cost)
            if decision is not None and not decision.allowed:
                self._refuse(operation_id, errors.RateLimitExceeded(
                    decision.retry_after, f"Query cost budget exhausted: this subscription costs {cost.cost}, "
                                          f"{decision.remaining} left; retry in {decision.retry_after} seconds",
                    {"cost": cost.cost, "remaining": decision.remaining}))
                return None
        executor = Executor.build(endpoint.schema, document, context_value=self._context(),
                                  raw_variable_values=variables, operation_name=operation_name,
                                  is_awaitable=is_awaitable)
        if isinstance(executor, list):  # variables that cannot be coerced
            return self._errors(operation_id, executor)
        stream = create_source_event_stream(executor)
        if is_awaitable(stream):
            stream = await stream  # type: ignore[misc]
        if isinstance(stream, ExecutionResult):  # the field refused (permission, bad argument)
            return self._errors(operation_id, stream.errors or [])
        return stream, document  # type: ignore[return-value]

    def _errors(self, operation_id: str, problems: list[GraphQLError]) -> None:
        self.enqueue({"id": operation_id, "type": "error",
                      "payload": [format_error(e, self.request_id) for e in problems]})

    async def _stream(self, operation_id: str, stream: AsyncIterable[Any], document: DocumentNode,
                      variables: dict[str, Any] | None, operation_name: str | None) -> None:
        """Each event of the source stream executed on its own, with a context of its own."""
        schema = self.layer.endpoint.schema
        try:
            async for row in stream:
                result = execute(schema, document, root_value=row, context_value=self._context(),
                                 variable_values=variables, operation_name=operation_name,
                                 is_awaitable=is_awaitable)
                if is_awaitable(result):
                    result = await result  # type: ignore[misc]
                assert isinstance(result, ExecutionResult)
                body: dict[str, Any] = {"data": result.data}
                if result.errors:
                    body["errors"] = [format_error(e, self.request_id) for e in result.errors]
                # Waits while the socket's buffer is full: meanwhile this subscription's events
                # queue in the hub, which closes the socket once they overflow (SlowConsumer).
                await self.outgoing.put(orjson.dumps({"id": operation_id, "type": "next", "payload": body},
                                                     default=str).decode())
            self.enqueue({"id": operation_id, "type": "complete"})
        except SlowConsumer:
            self._overflowed()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription failed")
            self.close(Close.INTERNAL_SERVER_ERROR, "Internal server error")
        finally:
            if self.operations.get(operation_id) is asyncio.current_task():
                del self.operations[operation_id]
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()


def _credentials(payload: dict[str, Any]) -> tuple[list[bytes], list[bytes]]:
    """(X-API-Key values, Authorization values) of a connection_init payload, header names in any
    case, at its top level or under `headers` (as GraphiQL and Apollo send connection params)."""
    api_keys: list[bytes] = []
    authorizations: list[bytes] = []
    sources = [payload]
    if isinstance(payload.get("headers"), dict):
        sources.append(payload["headers"])
    for source in sources:
        for name, value in source.items():
            if not isinstance(value, str):
                continue
            lowered = name.lower()
            if lowered == "x-api-key":
                api_keys.append(value.encode("latin-1", errors="replace"))
            elif lowered == "authorization":
                authorizations.append(value.encode("latin-1", errors="replace"))
    return api_keys, authorizations
