"""GraphQL errors -> the documented codes in `extensions`, rendered in one place.

A domain error keeps its code, status and details; anything unexpected is masked as
INTERNAL_ERROR carrying the request_id that the server's log line also carries.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from stateset_gateway import errors

log = logging.getLogger("stateset_gateway.graphql")


def format_error(error: GraphQLError, request_id: str | None) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    original = error.original_error
    if original is None:  # parse, validation or variable errors: the request itself is wrong
        extensions: dict[str, Any] = {"code": errors.ErrorCode.VALIDATION_ERROR.value, "status": 400}
    else:
        domain = errors.to_domain_error(original)
        if domain is None:
            log.error("unhandled exception in resolver", exc_info=original, extra={"path": error.path})
            domain = errors.InternalError()
        formatted["message"] = domain.message
        extensions = {"code": domain.code.value, "status": domain.status}
        if domain.details:
            extensions["details"] = domain.details
        if isinstance(domain, errors.InsufficientPermissions):
            extensions["required_permission"] = domain.required_permission
        if isinstance(domain, errors.InternalError):
            extensions["request_id"] = request_id
    formatted["extensions"] = extensions
    return formatted
