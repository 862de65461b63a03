"""GraphQL over HTTP (the GraphQL-over-HTTP spec), with parsing and validation cached.

Strawberry builds the schema and its resolvers; this endpoint drives graphql-core directly so the
per-request work is only what the request needs: a parsed and validated document is reused for
every request with the same query text, which removes most of the per-request floor.

- POST `application/json` bodies; GET with query parameters (queries only: a mutation is 405).
- `Accept: application/graphql-response+json`: request errors (parse, validation, variables)
  answer 400; with `application/json` (or no Accept) they answer 200, as legacy clients expect.
- A browser's GET (`Accept: text/html`) without a query gets GraphiQL.
- A request may name its document instead of sending it (`schema.persisted`: automatic persisted
  queries, trusted documents). Every answer to a GET operation is personal (computed for the caller's
  credentials) and live: `Cache-Control: no-store`, or `private, max-age=[graphql] get_max_age` with
  `Vary` on the credentials for a successful query when the operator allows browsers to keep them.

Every error it answers is a domain error rendered by `schema.errors`, as the HTTP pipeline's are.
`http.graphql_route` hands it the requests for /graphql.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
)
from graphql.pyutils import is_awaitable as _graphql_is_awaitable
from graphql.utilities import get_operation_ast
from sqlalchemy import Row
from starlette.requests import Request
from starlette.responses import Response

from stateset_gateway import errors
from stateset_gateway.caches import SizedLRU, document_bytes
from stateset_gateway.config import ConfigError, GraphQLSettings
from stateset_gateway.http.metrics import Metrics
from stateset_gateway.http.rate_limit import RateLimiter
from stateset_gateway.http.state import state_of
from stateset_gateway.ide.graphiql import graphiql_page
from stateset_gateway.schema.context import Context, memoized
from stateset_gateway.schema.cost import Cost, operation_cost, page_variables, waits_on_database
from stateset_gateway.schema.errors import GRAPHQL_RESPONSE, error_entry, format_error, media_type
from stateset_gateway.schema.execution import PlannedExecutor
from stateset_gateway.schema.persisted import (
    Named,
    PersistedQueries,
    PersistedQueryNotFound,
    TrustedDocuments,
    UntrustedDocument,
    named_document,
)
from stateset_gateway.schema.validation import validate_document

CACHEABLE_QUERY_LENGTH = 20_000
OPERATION_PARAMETERS = ("query", "extensions", "documentId")
CREDENTIAL_HEADERS = "Accept, Authorization, X-API-Key"


@dataclass(slots=True)
class _Prepared:
    """A parsed, validated document, with the costs of its operations by the values of the variables
    a cost depends on (`cost.page_variables`: none for most documents, whose costs are computed once)."""

    document: DocumentNode
    page_variables: tuple[str, ...] = ()
    costs: dict[tuple[Any, ...], Cost] = field(default_factory=dict)

    MAX_COSTS = 64  # distinct page sizes a document is asked for; past that, the oldest are forgotten


# Values graphql-core sees on every field that are never awaitable. Its own check probes
# `hasattr(value, "__await__")`, which on a SQLAlchemy Row (the loaders' results; a Row looks unknown
# attribute names up as column keys) goes through a raised and caught exception every time.
_NEVER_AWAITABLE = frozenset({str, int, float, bool, type(None), list, tuple, dict, Decimal, datetime, date,
                              uuid.UUID, Row})


def is_awaitable(value: Any) -> bool:
    return type(value) not in _NEVER_AWAITABLE and _graphql_is_awaitable(value)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any, **_args: Any) -> Any:
        return getattr(source, name)

    return resolve


def use_direct_attribute_resolvers(schema: GraphQLSchema) -> None:
    """Strawberry resolves a plain field (no resolver, no extension) through three calls that end in
    `getattr(source, python_name)`; a nested page has thousands of them. Give those fields that
    `getattr` directly. Only fields Strawberry itself marks as basic are touched, and only while the
    configured default resolver is `getattr`, so what every field returns is unchanged."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            definition = (graphql_field.extensions or {}).get("strawberry-definition")
            if (definition is None or not getattr(graphql_field.resolve, "_is_default", False)
                    or not definition.is_basic_field or definition.default_resolver is not getattr):
                continue
            graphql_field.resolve = _attribute(definition.python_name)


def memoize_repeatable_fields(schema: GraphQLSchema) -> None:
    """Within one request, the root fields of a query and the leaves that wait on the database
    (a connection's totalCount) answer the same for the same parent and arguments: resolve each
    once (`context.memoized`), however many aliases ask for it. Mutations run every time. Every app
    built in the process shares the schema, so a field is wrapped once, whichever app comes first."""
    for graphql_type in schema.type_map.values():
        if (not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__")
                or graphql_type is schema.mutation_type):
            continue
        for graphql_field in graphql_type.fields.values():
            resolve = graphql_field.resolve
            if resolve is not None and not getattr(resolve, "memoized", False) and (
                    graphql_type is schema.query_type or waits_on_database(graphql_field)):
                graphql_field.resolve = memoized(resolve)


class GraphQLEndpoint:
    def __init__(self, schema: GraphQLSchema, limits: GraphQLSettings, metrics: Metrics, *,
                 budget: RateLimiter | None = None, documents: SizedLRU[str, _Prepared],
                 plans: SizedLRU[Any, Any], persisted: SizedLRU[str, str] | None = None,
                 nested_lists: bool = True) -> None:
        use_direct_attribute_resolvers(schema)
        memoize_repeatable_fields(schema)
        self.schema = schema
        self.metrics = metrics
        self.budget = budget
        self.limits = limits
        self.graphiql = limits.graphiql
        self.documents = documents
        self.planned = (PlannedExecutor(schema, plans, nested_lists=nested_lists) if limits.executor == "planned"
                        else None)
        self.persisted = PersistedQueries(persisted if persisted is not None else SizedLRU(0), CACHEABLE_QUERY_LENGTH)
        self.trusted: TrustedDocuments | None = None
        if limits.trusted_documents:
            try:
                self.trusted = TrustedDocuments.load(limits.trusted_documents)
            except ValueError as exc:
                raise ConfigError(f"[graphql] trusted_documents (APP__GRAPHQL__TRUSTED_DOCUMENTS): {exc}") from None

    def _prepare(self, query: str) -> tuple[_Prepared | None, list[GraphQLError]]:
        """Parse and validate once per query text. Only valid, modest documents are kept, so callers
        cannot fill the cache with large or broken ones (parsing also stops at `max_tokens`)."""
        cached = self.documents.get(query)
        if cached is not None:
            return cached, []
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as exc:
            return None, [exc]
        problems = validate_document(self.schema, document)
        if problems:
            return None, problems
        prepared = _Prepared(document, page_variables(document))
        if len(query) <= CACHEABLE_QUERY_LENGTH:
            self.documents.put(query, prepared, document_bytes(query))
        return prepared, []

    def _cost(self, prepared: _Prepared, operation: OperationDefinitionNode, operation_name: str | None,
              variables: dict[str, Any] | None) -> Cost:
        given = variables or {}
        key = (operation_name, *(_page_value(given.get(name)) for name in prepared.page_variables))
        costs = prepared.costs
        cost = costs.get(key)
        if cost is None:
            if len(costs) >= prepared.MAX_COSTS:
                del costs[next(iter(costs))]
            cost = costs[key] = operation_cost(self.schema, prepared.document, operation, variables,
                                               self.limits.default_page_size)
        return cost

    async def _document_text(self, request: Request, named: Named) -> str:
        """The text of the document the request names: its own, the trusted manifest's, or the one
        registered under its hash. Raises what refuses it."""
        if self.trusted is not None:
            text = self.trusted.get(named.id) if named.id is not None else None
            if text is not None:
                return text
            if named.text is not None and self.trusted.trusts(named.text):
                return named.text
            if named.apq and named.text is None:
                raise PersistedQueryNotFound(details={"sha256Hash": named.id})
            raise UntrustedDocument(details={"documentId": named.id} if named.id else None)
        if named.text is not None:
            return named.text
        assert named.id is not None
        text = await self.persisted.get(request.app.state.redis, named.id)
        if text is None:
            raise PersistedQueryNotFound(details={"sha256Hash": named.id})
        return text

    async def operation_of(self, request: Request, body: bytes) -> OperationDefinitionNode | None:
        """The operation a POST body asks for, found as answering it would find it (the text, a
        persisted query's hash or a trusted document's id; the document cache; `max_tokens`), or
        None when the request will be refused before anything runs. The idempotency layer asks,
        to know whether a request is a mutation; the document it parses is the one the answer uses."""
        params = self._params(request, body, "application/json")
        if isinstance(params, Response):
            return None
        named, _variables, operation_name = params
        try:
            query = await self._document_text(request, named)
        except errors.DomainError:
            return None
        prepared, _problems = self._prepare(query)
        return None if prepared is None else get_operation_ast(prepared.document, operation_name)

    async def __call__(self, request: Request, body: bytes = b"") -> Response:
        accept = request.headers.get("accept", "")
        media = media_type(accept)
        if request.method in ("GET", "HEAD") and not any(p in request.query_params for p in OPERATION_PARAMETERS):
            if self.graphiql and "text/html" in accept:
                return graphiql_page(request, request.app.state.settings)
            return self._refuse(_bad_request("Missing query: pass ?query= or POST a JSON body"), media)
        response = await self._answer(request, body, media)
        if request.method != "POST":
            response.headers.setdefault("cache-control", "no-store")
        return response

    async def _answer(self, request: Request, body: bytes, media: str) -> Response:
        params = self._params(request, body, media)
        if isinstance(params, Response):
            return params
        named, variables, operation_name = params
        try:
            query = await self._document_text(request, named)
        except errors.DomainError as exc:  # a request error: legacy clients get 200 (on a miss, they resend the text)
            return self._refuse(exc, media, status=exc.status if media == GRAPHQL_RESPONSE else 200)

        prepared, problems = self._prepare(query)
        if prepared is None:
            return self._errors(problems, media)
        if named.apq and named.text is not None and self.trusted is None:
            await self.persisted.put(request.app.state.redis, named.id or "", query)
        document = prepared.document
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return self._refuse(_bad_request("Unknown operation name or several operations without operationName"),
                                media)
        if request.method != "POST" and operation.operation != OperationType.QUERY:
            return self._refuse(errors.MethodNotAllowed("Mutations are only allowed over POST", allow=["POST"]), media)

        cost = self._cost(prepared, operation, operation_name, variables)
        cost_report = {"requestedQueryCost": cost.cost, "maximumAvailable": self.limits.max_cost}
        if cost.cost > self.limits.max_cost or cost.depth > self.limits.max_depth:
            too = (f"cost {cost.cost} exceeds the maximum of {self.limits.max_cost}" if cost.cost > self.limits.max_cost
                   else f"depth {cost.depth} exceeds the maximum of {self.limits.max_depth}")
            error = errors.QueryTooComplex(
                f"Query is too complex: {too}; ask for smaller pages or fewer levels",
                {"cost": cost.cost, "max_cost": self.limits.max_cost, "depth": cost.depth,
                 "max_depth": self.limits.max_depth})
            return self._refuse(error, media, status=400 if media == GRAPHQL_RESPONSE else 200,
                                extensions={"cost": cost_report})

        state = state_of(request.scope)
        if self.budget is not None and cost.cost > 0:
            refused = await self._spend(state.caller.budget_key(), cost.cost, cost_report)
            if refused is not None:
                return self._refuse(refused, media, extensions={"cost": cost_report})

        app_state = request.app.state
        context = Context(request=request, db=app_state.db, settings=app_state.settings)
        result = await self.planned.execute(document, context, variables, operation_name) if self.planned else None
        if result is None:  # not planned: graphql-core runs the operation
            result = execute(self.schema, document, context_value=context, variable_values=variables,
                             operation_name=operation_name, is_awaitable=is_awaitable, executor_class=Executor)
            if not isinstance(result, ExecutionResult):
                result = await result
        body: dict[str, Any] = {}
        formatted = [format_error(e, state.request_id) for e in result.errors or ()]
        is_request_error = result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        if formatted:
            body["errors"] = formatted
        if not is_request_error:
            body["data"] = result.data
        body["extensions"] = {"cost": cost_report}
        status = 400 if is_request_error and media == GRAPHQL_RESPONSE else 200
        headers = None
        if request.method != "POST" and not formatted and self.limits.get_max_age > 0:
            headers = {"Cache-Control": f"private, max-age={self.limits.get_max_age}", "Vary": CREDENTIAL_HEADERS}
        return self._respond(body, status, media, headers=headers)

    def _params(self, request: Request, body: bytes, media: str) -> tuple[Named, dict[str, Any] | None, str | None] | Response:
        if request.method != "POST":
            raw: dict[str, Any] = dict(request.query_params)
            for name in ("variables", "extensions"):  # JSON objects, encoded in the query string
                if name in raw:
                    try:
                        raw[name] = orjson.loads(raw[name]) if raw[name] else None
                    except orjson.JSONDecodeError:
                        return self._refuse(_bad_request(f"{name} must be a JSON object"), media)
        else:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in ("application/json", "application/graphql+json", ""):
                return self._refuse(errors.UnsupportedMediaType(
                    f"Unsupported content type {content_type}; send application/json"), media)
            try:
                raw = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                return self._refuse(_bad_request(f"Malformed JSON body: {exc}"), media)
            if not isinstance(raw, dict):
                return self._refuse(_bad_request("The body must be a JSON object"), media)
        variables = raw.get("variables")
        operation_name = raw.get("operationName")
        extensions = raw.get("extensions")
        if variables is not None and not isinstance(variables, dict):
            return self._refuse(_bad_request("variables must be a JSON object"), media)
        if operation_name is not None and not isinstance(operation_name, str):
            return self._refuse(_bad_request("operationName must be a string"), media)
        if extensions is not None and not isinstance(extensions, dict):
            return self._refuse(_bad_request("extensions must be a JSON object"), media)
        try:
            named = named_document(raw.get("query"), extensions, raw.get("documentId"))
        except errors.ValidationFailed as exc:
            return self._refuse(exc, media)
        return named, variables, operation_name or None

    async def _spend(self, identity: str, cost: int, cost_report: dict[str, Any]) -> errors.RateLimitExceeded | None:
        """Charge the operation's cost to its caller's budget (CONTRACT section 6). The budget left is
        reported in `extensions.cost.budget`; an operation it cannot pay for is refused, 429, unrun."""
        assert self.budget is not None
        decision = await self.budget.hit(identity, cost)
        if decision is None:  # the shared counter store is down: not enforced (logged by the limiter)
            return None
        cost_report["budget"] = {"limit": decision.limit, "remaining": decision.remaining, "resetAt": decision.reset}
        if decision.allowed:
            return None
        retry_after = decision.retry_after
        return errors.RateLimitExceeded(
            retry_after, f"Query cost budget exhausted ({decision.rule} per client): this operation costs "
                         f"{cost}, {decision.remaining} left; retry in {retry_after} seconds",
            {"cost": cost, "remaining": decision.remaining})

    def _refuse(self, error: errors.DomainError, media: str, *, status: int | None = None,
                extensions: dict[str, Any] | None = None) -> Response:
        """The request refused before execution: the error's own status unless the media type says
        otherwise (a legacy client gets 200 for a request error)."""
        body: dict[str, Any] = {"errors": [error_entry(error, None)]}
        if extensions is not None:
            body["extensions"] = extensions
        return self._respond(body, error.status if status is None else status, media, headers=error.headers())

    def _errors(self, problems: list[GraphQLError], media: str) -> Response:
        body = {"errors": [format_error(e, None) for e in problems]}
        return self._respond(body, 400 if media == GRAPHQL_RESPONSE else 200, media)

    def _respond(self, body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
        for error in body.get("errors", ()):
            self.metrics.count_error(error["extensions"]["code"])
        return Response(orjson.dumps(body, default=_default), status_code=status, media_type=media, headers=headers)


def _page_value(value: Any) -> Any:
    """A page variable's value as the cost walk reads it: an int, else nothing (the default page)."""
    return value if isinstance(value, int) else None


def _bad_request(message: str) -> errors.ValidationFailed:
    """A request that is not well-formed (no query, bad JSON): 400 whatever the media type."""
    return errors.ValidationFailed({}, message)


def _default(value: Any) -> Any:
    return str(value)
