"""The benchmark's probe: SQL statements and pool check-outs per request, in response headers.

Every SQL statement the process sends is counted against the request that caused it, and the count
is returned in the `X-Bench-SQL-Statements` response header; pool check-outs (each one a session,
and with pre-ping a round trip of its own) in `X-Bench-DB-Checkouts`; a read connection kept from an
earlier request (stateset_gateway/db/kept.py) is taken without one, so a steady stream of reads
shows next to none. The count lives in a context
variable holding a mutable cell: DataLoader batches run in tasks created during the request, which
copy the request's context and so add to the same cell. Only the benchmark's server (bench/serve.py)
wraps the gateway in this; the product itself carries no listener and no extra middleware.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

HEADER = b"x-bench-sql-statements"
CHECKOUT_HEADER = b"x-bench-db-checkouts"

_statements: ContextVar[list[int] | None] = ContextVar("bench_sql_statements", default=None)
_listening = False


def _count(*_args: Any, **_kwargs: Any) -> None:
    cell = _statements.get()
    if cell is not None:
        cell[0] += 1


def _count_checkout(*_args: Any, **_kwargs: Any) -> None:
    cell = _statements.get()
    if cell is not None:
        cell[1] += 1


class StatementCounter:
    """A pure-ASGI wrapper around the whole application: a fresh counter per request, reported in
    response headers. The engine listeners are installed once per process, on first use."""

    def __init__(self, app: Any) -> None:
        global _listening
        self.app = app
        if not _listening:
            event.listen(Engine, "before_cursor_execute", _count)
            event.listen(Pool, "checkout", _count_checkout)
            _listening = True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cell = [0, 0]
        token = _statements.set(cell)

        async def send_with_count(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [(HEADER, str(cell[0]).encode()), (CHECKOUT_HEADER, str(cell[1]).encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_count)
        finally:
            _statements.reset(token)
