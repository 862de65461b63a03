"""Any exception -> the domain error a client sees, in one place for every database and transport.

A DomainError is already what the client sees; the only other failures with a documented answer
are the database's (unreachable, locked, a constraint the client broke). Everything else is a bug:
None here, INTERNAL_ERROR at the renderer.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc

from stateset_gateway import errors


def _text(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return f"{type(orig).__name__ if orig else ''} {orig or exc}".lower()


def to_domain_error(exc: BaseException) -> errors.DomainError | None:
    """The client-facing form of any exception, or None when it is an unexpected bug (-> INTERNAL_ERROR)."""
    if isinstance(exc, errors.DomainError):
        return exc
    return _translate_db_error(exc)


def _translate_db_error(exc: BaseException) -> errors.DomainError | None:
    if isinstance(exc, sa_exc.TimeoutError):  # pool exhausted
        return errors.ServiceUnavailable("Timeout acquiring connection from pool")
    if isinstance(exc, (ConnectionError, OSError, asyncio.TimeoutError)) and not isinstance(
        exc, FileNotFoundError
    ):
        return errors.ServiceUnavailable("Database is unreachable")
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    message = _text(exc)
    if any(marker in message for marker in ("database is locked", "locknotavailable", "deadlock")) or (
        "lock" in message and "timeout" in message
    ):
        return errors.ResourceLocked()
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError) or any(
        marker in message
        for marker in ("connection refused", "connection is closed", "cannotconnectnow", "connectiondoesnotexist",
                       "unable to open database", "terminating connection", "the database system is")
    ):
        return errors.ServiceUnavailable("Database is unreachable")
    if "invalid byte sequence" in message or "characternotinrepertoire" in message:
        # PostgreSQL text cannot hold NUL (\u0000); SQLite can. The client sent it: a 400, not a 500.
        return errors.ValidationFailed({"input": ["Text must not contain NUL (\\u0000) characters"]})
    if isinstance(exc, sa_exc.IntegrityError) and "foreign key" in message:
        return errors.ValidationFailed({"reference": ["A referenced resource does not exist"]},
                                       "FOREIGN KEY constraint failed")
    return None
