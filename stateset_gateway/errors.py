"""Typed domain errors, each carrying the code and HTTP status that CONTRACT section 2 documents.

Operations raise these; each transport renders them once (`rest_compat.errors`, `schema.errors`).
Anything else that escapes is translated by `db.errors.to_domain_error`, so a client never sees a raw
exception. This module imports nothing of the package: every layer may raise these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

# The integers a JSON encoder (orjson) writes as numbers; larger ones travel as their digits.
_INT_RANGE = range(-(2**63), 2**64)


def json_safe(value: Any) -> Any:
    """`value` made of what every renderer can write: a client can put anything in an input (an
    integer of 100 digits, say) that a message's details echo, and the error answer must not fail."""
    if value is None or isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, int):
        return value if value in _INT_RANGE else str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return [json_safe(item) for item in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    INVALID_TOKEN = "INVALID_TOKEN"
    INVALID_API_KEY = "INVALID_API_KEY"
    INSUFFICIENT_PERMISSIONS = "INSUFFICIENT_PERMISSIONS"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    DUPLICATE_ENTRY = "DUPLICATE_ENTRY"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INSUFFICIENT_INVENTORY = "INSUFFICIENT_INVENTORY"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
    ORDER_ALREADY_FULFILLED = "ORDER_ALREADY_FULFILLED"
    RETURN_WINDOW_EXPIRED = "RETURN_WINDOW_EXPIRED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAYMENT_ALREADY_PROCESSED = "PAYMENT_ALREADY_PROCESSED"
    RESOURCE_LOCKED = "RESOURCE_LOCKED"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"


class DomainError(Exception):
    """Base of every error a client may see. Subclasses fix `code`, `status` and a default message."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "An internal error occurred"

    def __init__(self, message: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] | None = json_safe(details) if details else None
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers the error implies (e.g. Retry-After)."""
        return {}


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = "Invalid request data"

    def __init__(self, fields: Mapping[str, Sequence[str]], message: str | None = None) -> None:
        super().__init__(message, {name: list(msgs) for name, msgs in fields.items()})

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls({name: [message]})


class _Unauthenticated(DomainError):
    """401s tell HTTP clients how to authenticate (RFC 6750)."""

    status = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="stateset", error="invalid_token"'}


class InvalidCredentials(DomainError):
    code = ErrorCode.INVALID_CREDENTIALS
    status = 401
    default_message = "Invalid email or password"


class TokenExpired(_Unauthenticated):
    code = ErrorCode.TOKEN_EXPIRED
    status = 401
    default_message = "Access token has expired"


class InvalidToken(_Unauthenticated):
    code = ErrorCode.INVALID_TOKEN
    status = 401
    default_message = "Token is invalid or malformed"


class InvalidApiKey(DomainError):
    code = ErrorCode.INVALID_API_KEY
    status = 401
    default_message = "API key is invalid or revoked"


class InsufficientPermissions(DomainError):
    code = ErrorCode.INSUFFICIENT_PERMISSIONS
    status = 403
    default_message = "You don't have permission to perform this action"

    def __init__(self, required_permission: str, message: str | None = None) -> None:
        super().__init__(message, {"required_permission": required_permission})
        self.required_permission = required_permission


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    default_message = "Resource not found"

    @classmethod
    def resource(cls, kind: str, key: object) -> NotFound:
        return cls(f"{kind} {key} not found", {"resource": kind, "id": str(key)})


class MethodNotAllowed(DomainError):
    code = ErrorCode.METHOD_NOT_ALLOWED
    status = 405
    default_message = "Method not allowed"

    def __init__(self, message: str | None = None, allow: list[str] | None = None) -> None:
        super().__init__(message)
        self.allow = allow or []

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allow)} if self.allow else {}


class DuplicateEntry(DomainError):
    code = ErrorCode.DUPLICATE_ENTRY
    status = 409
    default_message = "A resource with this identifier already exists"

    def __init__(self, field: str, value: object, message: str | None = None) -> None:
        super().__init__(message, {"field": field, "value": str(value)})


class VersionConflict(DomainError):
    code = ErrorCode.VERSION_CONFLICT
    status = 409
    default_message = "The resource was modified by another request"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"Expected version {expected}, but the stored version is {actual}",
            {"expected_version": expected, "current_version": actual},
        )


class QueryTooComplex(DomainError):
    """A GraphQL operation over the configured cost or depth: refused before it runs."""

    code = ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = "Query is too complex"


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    status = 413
    default_message = "Request body is too large"


class UnsupportedMediaType(DomainError):
    """A body in a media type the endpoint does not read: the request is wrong, as a validation error is."""

    code = ErrorCode.VALIDATION_ERROR
    status = 415
    default_message = "Unsupported media type"


class InsufficientInventory(DomainError):
    code = ErrorCode.INSUFFICIENT_INVENTORY
    status = 422
    default_message = "Not enough inventory available"

    def __init__(self, product_id: object, requested: int, available: int) -> None:
        super().__init__(
            None, {"product_id": str(product_id), "requested": requested, "available": available}
        )


class InvalidStatusTransition(DomainError):
    code = ErrorCode.INVALID_STATUS_TRANSITION
    status = 422
    default_message = "Can't change to that status"

    def __init__(self, current: str, target: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Cannot change status from {current} to {target}",
            {"from": current, "to": target, "allowed": list(allowed)},
        )


class OrderAlreadyFulfilled(DomainError):
    code = ErrorCode.ORDER_ALREADY_FULFILLED
    status = 422
    default_message = "Order has already been fulfilled"


class ReturnWindowExpired(DomainError):
    code = ErrorCode.RETURN_WINDOW_EXPIRED
    status = 422
    default_message = "The return window for this order has expired"


class PaymentFailed(DomainError):
    code = ErrorCode.PAYMENT_FAILED
    status = 402
    default_message = "Payment could not be captured"


class PaymentAlreadyProcessed(DomainError):
    """The money asked for has already been dealt with: the order is paid, or a refund asks for more
    than its payment still holds."""

    code = ErrorCode.PAYMENT_ALREADY_PROCESSED
    status = 422
    default_message = "Payment already processed"


class ResourceLocked(DomainError):
    code = ErrorCode.RESOURCE_LOCKED
    status = 423
    default_message = "Resource is locked by a concurrent operation; retry shortly"


class RateLimitExceeded(DomainError):
    code = ErrorCode.RATE_LIMIT_EXCEEDED
    status = 429
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: int, message: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, {"retry_after": retry_after, **(details or {})})
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InternalError(DomainError):
    """The masked form of an unexpected exception: nothing internal is carried."""


class ServiceUnavailable(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
    default_message = "Service temporarily unavailable"


class RequestTimeout(DomainError):
    code = ErrorCode.TIMEOUT
    status = 504
    default_message = "Request took too long"

