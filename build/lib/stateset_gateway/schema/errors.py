"""Errors on /graphql, rendered in one place: `{"errors": [{"message", "extensions": {"code", "status",
"details"}}]}`, whether a resolver raised them, the endpoint refused the request, or a layer of the
HTTP pipeline did (413, 429, an idempotency conflict, 405, 504, a 500 below the endpoint).

A domain error keeps its code, status and details; anything unexpected is masked as
INTERNAL_ERROR carrying the request_id that the server's log line also carries.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import GraphQLError

from stateset_gateway import errors
from stateset_gateway.db.errors import to_domain_error

log = logging.getLogger("stateset_gateway.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def media_type(accept: str) -> str:
    """The GraphQL-over-HTTP response media type the client asked for; legacy clients get JSON."""
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def error_entry(domain: errors.DomainError, request_id: str | None) -> dict[str, Any]:
    """One entry of `errors` for a domain error."""
    extensions: dict[str, Any] = {"code": domain.code.value, "status": domain.status}
    if domain.details:
        extensions["details"] = domain.details
    if isinstance(domain, errors.InsufficientPermissions):
        extensions["required_permission"] = domain.required_permission
    if isinstance(domain, errors.InternalError):
        extensions["request_id"] = request_id
    return {"message": domain.message, "extensions": extensions}


def format_error(error: GraphQLError, request_id: str | None) -> dict[str, Any]:
    """One entry of `errors` for what graphql-core reports. An error with no path was raised before
    any field ran: the request itself is wrong (parse, validation, a variable that cannot be coerced,
    whatever its scalar's parser raised). An error on a path is whatever that field's resolver raised."""
    original = error.original_error
    if original is None or error.path is None:
        formatted: dict[str, Any] = {"message": error.message}
        extensions: dict[str, Any] = {"code": errors.ErrorCode.VALIDATION_ERROR.value, "status": 400}
    else:
        domain = to_domain_error(original)
        if domain is None:
            log.error("unhandled exception in resolver", exc_info=original, extra={"path": error.path})
            domain = errors.InternalError()
        entry = error_entry(domain, request_id)
        formatted, extensions = {"message": entry["message"]}, entry["extensions"]
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = extensions
    return formatted


def render(error: errors.DomainError, request_id: str | None, accept: str) -> tuple[int, str, dict[str, str], bytes]:
    """A request refused whole, before or around execution: (status, media type, headers, body).
    The HTTP status is the error's own, whatever the media type: nothing was executed."""
    body = orjson.dumps({"errors": [error_entry(error, request_id)]})
    return error.status, media_type(accept), error.headers(), body
