"""Request ids and JSON log lines: what operators use to find one request.

The request id lives in a context variable so every log line written while serving a request
carries it, whichever layer writes the line.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextvars import ContextVar
from logging.handlers import RotatingFileHandler
from pathlib import Path
from random import getrandbits
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

LOG_FILE_MAX_BYTES = 10 * 1024 * 1024  # then the file is renamed stateset.log.1 and a new one begun
LOG_FILE_BACKUPS = 5  # stateset.log.1 .. .5 are kept: at most 60 MB of log files
# How long a request's line may wait in its stream's buffer before it is written out (see RequestLog).
FLUSH_SECONDS = 0.05

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def new_request_id() -> str:
    """64 random bits: unique across workers and restarts with no coordination between them. An id
    names a request and guards nothing, so `random`'s generator (seeded from the system's, and
    seeded again in a forked child) serves; os.urandom was a system call per request."""
    return "req-%016x" % getrandbits(64)


def current_request_id() -> str | None:
    return request_id_var.get()


_stamp: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds; the date and time part is formatted once per second."""
    global _stamp
    second = int(created)
    if second != _stamp[0]:
        _stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return "%s.%03dZ" % (_stamp[1], (created - second) * 1000)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields passed with `extra=` become top-level keys, in their order."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():  # extras come last, in the order they were given
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO", file: Path | None = None) -> None:
    """JSON lines on stdout, and in `file` when given (rotated by size, so `tail -f` and `grep` on it
    work and it never fills the disk). Idempotent: safe to call per app."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, LineBatching):  # ours, from an earlier call
            root.removeHandler(handler)
            handler.close()  # a file handler's file; the stream handler leaves stdout open
    handlers: list[logging.Handler] = [JsonStreamHandler(sys.stdout)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(JsonFileHandler(file, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS))
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite"):  # aiosqlite logs SQL parameters at DEBUG
        logging.getLogger(noisy).setLevel(logging.WARNING)


class LineBatching(logging.Handler):
    """What the handlers configure_logging installs add to logging's: request lines (RequestLog),
    already encoded, wait in the handler and go out together in one write when RequestLog flushes
    them, and ahead of any record the handler emits, and when it flushes or closes, so lines keep
    the order they were written in. A write per line was a system call per request wherever
    stdout is unbuffered, as PYTHONUNBUFFERED=1 (the Docker image's) makes it."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.setFormatter(JsonFormatter())

    def add_line(self, line: bytes) -> None:
        with self.lock:  # type: ignore[union-attr]  # another thread's emit may be writing them out
            self.pending.append(line)

    def write_pending(self) -> None:
        """Write the waiting lines out; with the handler's lock held."""
        if self.pending:
            lines, self.pending = self.pending, []
            try:
                self.write_lines(lines)
            except Exception:  # as logging does: a broken log stream never fails the request
                pass

    def write_lines(self, lines: list[bytes]) -> None:
        raise NotImplementedError

    def emit(self, record: logging.LogRecord) -> None:
        self.write_pending()  # logging's handle() holds the lock
        super().emit(record)  # type: ignore[safe-super]  # the stream handler's, after this class in the MRO

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self.write_pending()
        super().flush()

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self.write_pending()
        super().close()


class JsonStreamHandler(LineBatching, logging.StreamHandler):  # type: ignore[type-arg]
    def __init__(self, stream: Any) -> None:
        logging.StreamHandler.__init__(self, stream)
        LineBatching.__init__(self)

    def write_lines(self, lines: list[bytes]) -> None:
        _write(self.stream, b"".join(lines))


class JsonFileHandler(LineBatching, RotatingFileHandler):
    """The log file, rotated by size: waiting lines are checked against the bound as
    `RotatingFileHandler.emit` checks a record, with one look at the file's size for all of them."""

    def __init__(self, filename: Path, maxBytes: int = 0, backupCount: int = 0) -> None:  # noqa: N803
        RotatingFileHandler.__init__(self, filename, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8")
        LineBatching.__init__(self)

    def write_lines(self, lines: list[bytes]) -> None:
        if self.stream is None:  # closed by a previous rollover's failure, or opened lazily
            self.stream = self._open()
        if self.maxBytes <= 0:
            _write(self.stream, b"".join(lines))
            return
        position, start = _position(self.stream), 0
        for i, line in enumerate(lines):
            if position + len(line) >= self.maxBytes:
                _write(self.stream, b"".join(lines[start:i]))
                self.doRollover()
                position, start = _position(self.stream), i
            position += len(line)
        _write(self.stream, b"".join(lines[start:]))


class RequestLog:
    """The line every request writes: `{"message": "request", "method", "path", "status", "duration_ms"}`.

    When the only listeners are the JSON handlers `configure_logging` installed, it renders that line
    itself, exactly as `JsonFormatter` would, and hands it to them (LineBatching): logging's generic
    path (a LogRecord with some twenty attributes, two levels of handler dispatch, the formatter's
    field scan) cost a fifth of the CPU of a trivial request. Whenever anything else listens (a
    handler or filter an operator or a test added, a handler's own level), the line goes through
    `logging` as any other, so nothing that observes logging misses it.

    In a served process the lines of the next FLUSH_SECONDS are written out together, as nginx
    buffers its access log: a write per line was a system call per request, 7 % of a trivial
    request's CPU. At exit, logging flushes its handlers and with them what is left. Outside an
    event loop (a command, a test) the line is written at once.
    """

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self._unflushed: dict[int, LineBatching] = {}  # given lines since the last flush
        self._flush_on: asyncio.AbstractEventLoop | None = None  # the loop the next flush is scheduled on

    def write(self, fields: dict[str, Any]) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        handlers = self._own_handlers()
        if handlers is None:
            logger.info("request", extra=fields)
            return
        entry: dict[str, Any] = {"timestamp": _timestamp(time.time()), "level": "info", "logger": logger.name,
                                 "message": "request"}
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(fields)
        line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)
        for handler in handlers:
            handler.add_line(line)
            self._unflushed[id(handler)] = handler
        scheduled = self._flush_on
        if scheduled is not None and scheduled.is_running():  # (asking for the running loop is a getpid call)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing would flush it later
            self.flush()
            return
        self._flush_on = loop  # none was scheduled, or on a loop that has stopped and may never run it
        loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write out the lines waiting in the handlers."""
        self._flush_on = None
        handlers, self._unflushed = self._unflushed, {}
        for handler in handlers.values():
            try:
                handler.flush()
            except Exception:  # a handler closed meanwhile (its lines were written as it closed)
                pass

    def _own_handlers(self) -> list[LineBatching] | None:
        """The handlers an INFO record of this logger would reach, if they are all ours; else None."""
        found: list[LineBatching] = []
        logger: logging.Logger | None = self.logger
        while logger is not None:
            if logger.filters:
                return None
            for handler in logger.handlers:
                if not isinstance(handler, LineBatching) or handler.filters or handler.level > logging.INFO:
                    return None
                found.append(handler)
            logger = logger.parent if logger.propagate else None
        return found


def _write(stream: Any, data: bytes) -> None:
    """UTF-8 lines into a text stream's byte buffer when it has one, past the text layer: no
    decoding and encoding again, and the buffer knows its position cheaply (_position). Whatever
    logging writes to the same stream goes through the text layer and is flushed by the end of its
    handler's emit, so nothing is left there to be overtaken."""
    if not data:
        return
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
    else:
        stream.write(data.decode())


def _position(stream: Any) -> int:
    """Where the next byte goes: a text stream's own tell() flushes its text layer and rebuilds
    its decoder's state; its byte buffer's costs less."""
    buffer = getattr(stream, "buffer", None)
    return int(buffer.tell() if buffer is not None else stream.tell())
