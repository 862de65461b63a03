"""What the layers of the pipeline share about one request, in one typed object on the ASGI scope.

The request-context layer makes it first thing (`RequestState`), every layer below reads and fills
it in; nothing else about a request travels in raw scope keys. Slotted and built with one call,
because it is made for every request.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stateset_gateway.auth.caller import Caller
    from stateset_gateway.auth.principal import Principal

SCOPE_KEY = "stateset.request"


class Pending(Enum):
    """The principal before authentication has been asked for (None is a known anonymous caller)."""

    PENDING = 0


PENDING = Pending.PENDING


class RequestState:
    """`request_id` (also in the log line and X-Request-ID); `caller`, who presents themselves, named
    once for the budgets, the idempotency namespace and authentication; `principal`, the result of
    authenticating that caller, looked up at most once; `response_headers`, headers a layer wants on
    whatever answers the request (the rate limit's budget), errors included; `route`, the route
    template the metrics label the request with when it is not one of FastAPI's routes."""

    __slots__ = ("request_id", "caller", "principal", "response_headers", "route")

    def __init__(self, request_id: str, caller: Caller) -> None:
        self.request_id = request_id
        self.caller = caller
        self.principal: Principal | None | Pending = PENDING
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.route: str | None = None


def state_of(scope: dict[str, Any]) -> RequestState:
    """The request's state; every HTTP request past the request-context layer has one."""
    state: RequestState = scope[SCOPE_KEY]
    return state
