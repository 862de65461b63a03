"""Counting the SQL a request costs, as the query-count regression tests do: every statement the
application's database engine runs while a recording is open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from stateset_gateway.db.engine import Database


class StatementLog:
    def __init__(self, db: Database) -> None:
        self.engine = db.engine.sync_engine

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The statements run inside the block, in order, as sent to the driver."""
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(self.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(self.engine, "before_cursor_execute", record)


def per_row_work(statements: list[str]) -> list[str]:
    """The statements that serve the data: without transaction control, and without authentication's
    own lookups (the API key, its last-used stamp), which are per request, not per row."""
    return [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA"))
            and "api_keys" not in s]
