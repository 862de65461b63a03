"""DomainError -> the documented REST error payload (CONTRACT section 2), rendered in one place for
every path but /graphql: the framework's errors (404, 405, a bad body), the routes' errors, and those
of the HTTP pipeline's layers (413, 429, an idempotency conflict, 504, a 500 below the routes)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from stateset_gateway import errors
from stateset_gateway.http.state import state_of

JSON = "application/json"


def error_type(status: int) -> str:
    """The kind of error as StateSet's API and its SDKs name it (`stateset-python` picks its exception
    class from it): `not_found_error`, `permission_error`, ..."""
    if status >= 500:
        return "api_error"
    return _ERROR_TYPES.get(status, "invalid_request_error")


_ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                429: "rate_limit_error"}


def error_body(error: errors.DomainError, request_id: str | None) -> dict[str, Any]:
    """The guide's payload, `{"error": {...}}`, and beside it StateSet API's `type` and `message`,
    which its published SDKs read to raise their not-found, permission, authentication and rate-limit
    errors. The guide's fields are untouched; the two others only add."""
    body: dict[str, Any] = {"code": error.code.value, "message": error.message, "status": error.status}
    if error.details:
        body["details"] = error.details
    if isinstance(error, errors.InsufficientPermissions):
        body["required_permission"] = error.required_permission
    body["request_id"] = request_id
    return {"error": body, "type": error_type(error.status), "message": error.message}


def render(error: errors.DomainError, request_id: str | None) -> tuple[int, str, dict[str, str], bytes]:
    """(status, media type, headers, body), as the HTTP pipeline and the handlers below send it."""
    return error.status, JSON, error.headers(), orjson.dumps(error_body(error, request_id))


def error_response(error: errors.DomainError, request: Request) -> Response:
    request.app.state.metrics.count_error(error.code.value)
    status, media, headers, body = render(error, state_of(request.scope).request_id)
    return Response(body, status_code=status, headers=headers, media_type=media)


NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type"})


def validation_details(exc: RequestValidationError, content_type: str | None = None) -> dict[str, list[str]]:
    """FastAPI's error list -> {"field": ["message", ...]}; `body.email` becomes `email`. A body that
    is not an object because it was not sent as JSON says so."""
    details: dict[str, list[str]] = {}
    sent_as_json = (content_type or "").split(";")[0].strip().lower() == JSON
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        message = err.get("msg", "Invalid value")
        if err.get("type") == "missing":
            message = f"{field.split('.')[-1].replace('_', ' ').capitalize()} is required"
        elif err.get("type") == "json_invalid":
            field, message = "body", f"Malformed JSON: {err.get('ctx', {}).get('error', 'invalid')}"
        elif field == "body" and err.get("type") in NOT_AN_OBJECT and not sent_as_json:
            message = "Send the body as JSON, with 'Content-Type: application/json'"
        details.setdefault(field, []).append(message)
    return details


def install(app: FastAPI) -> None:
    """Every error the framework raises leaves in the documented shape."""

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        return error_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(errors.ValidationFailed(validation_details(exc, request.headers.get("content-type"))),
                              request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error: errors.DomainError
        if exc.status_code == 404:
            error = errors.NotFound(f"No route for {request.method} {request.url.path}")
        elif exc.status_code == 405:
            error = errors.MethodNotAllowed(f"Method {request.method} is not allowed for {request.url.path}")
        elif exc.status_code == 413:
            error = errors.PayloadTooLarge()
        elif exc.status_code in (400, 422):
            error = errors.ValidationFailed({"body": [str(exc.detail)]})
        elif exc.status_code == 401:
            error = errors.InvalidToken()
        else:
            error = errors.InternalError() if exc.status_code >= 500 else errors.ValidationFailed(
                {"request": [str(exc.detail)]}
            )
        response = error_response(error, request)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request)) or (exc.headers or {}).get("Allow", "")
        return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route offers for this path. Starlette names only the first route that matched
    the path, but GET /orders/{id} and PUT /orders/{id} are separate routes. A path that a route names
    word for word (POST /inventory/adjust) is that route's alone: GET /inventory/{level_id} matches its
    words too, but "adjust" is no level id. HEAD goes with GET (`http.head`)."""
    scope = {**request.scope, "method": "\x00"}  # no route takes it: a path match is then PARTIAL
    literal: set[str] = set()
    parametrised: set[str] = set()
    for route in iter_route_contexts(request.app.routes):  # included routers' routes too
        match, child = route.matches(dict(scope))
        if match is Match.PARTIAL:
            (parametrised if child.get("path_params") else literal).update(getattr(route, "methods", None) or ())
    methods = literal or parametrised
    return sorted(methods | {"HEAD"} if "GET" in methods else methods)
