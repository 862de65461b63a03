"""The per-request log line: one JSON object per request, carrying the id the response carries."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stateset_gateway.http.logs import (
    FLUSH_SECONDS,
    JsonFileHandler,
    JsonFormatter,
    JsonStreamHandler,
    RequestLog,
    request_id_var,
)

FIELDS = {"method": "POST", "path": "/graphql", "status": 200, "duration_ms": 0.42}


@pytest.fixture
def isolated_logger(tmp_path: Path) -> Iterator[tuple[logging.Logger, Path]]:
    """A logger whose only listener is a JSON file handler of ours, out of reach of pytest's capture
    (which sits on the root logger), so the line is written the way a served process writes it."""
    logger = logging.getLogger("stateset_gateway.test_request_log")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    path = tmp_path / "requests.jsonl"
    handler = JsonFileHandler(path)  # as configure_logging makes its own
    logger.addHandler(handler)
    try:
        yield logger, path
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.propagate = True


def _alone(isolated: tuple[logging.Logger, Path]) -> tuple[logging.Logger, Path]:
    """The isolated logger with only its own handler: pytest's log capture attaches itself to every
    non-propagating logger as a test starts, and would otherwise take each line through logging."""
    logger, _ = isolated
    for handler in [h for h in logger.handlers if not isinstance(h, JsonFileHandler)]:
        logger.removeHandler(handler)
    return isolated


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_written_line_matches_what_logging_would_write(isolated_logger: tuple[logging.Logger, Path]) -> None:
    logger, path = _alone(isolated_logger)
    assert RequestLog(logger.name)._own_handlers() is not None  # the direct path is the one tested
    token = request_id_var.set("req-0123456789abcdef")
    try:
        RequestLog(logger.name).write(dict(FIELDS))  # only our handler listens: written directly
        logger.info("request", extra=dict(FIELDS))  # the same line through logging
    finally:
        request_id_var.reset(token)
    direct, through_logging = _lines(path)
    assert direct.pop("timestamp") and through_logging.pop("timestamp")
    assert direct == through_logging == {"level": "info", "logger": logger.name, "message": "request",
                                         "request_id": "req-0123456789abcdef", **FIELDS}


async def test_served_lines_reach_the_stream_by_themselves_and_in_order(
    isolated_logger: tuple[logging.Logger, Path]
) -> None:
    """In an event loop a line is flushed with the others of its moment, not one by one: it still
    reaches the file with nothing else written after it, and a record written through logging in
    between stays in between."""
    logger, path = _alone(isolated_logger)
    lines = RequestLog(logger.name)
    lines.write({**FIELDS, "path": "/first"})
    logger.warning("between")
    lines.write({**FIELDS, "path": "/last"})
    await asyncio.sleep(FLUSH_SECONDS * 4)
    assert [line.get("path", line["message"]) for line in _lines(path)] == ["/first", "between", "/last"]


async def test_served_lines_go_out_together_to_an_unbuffered_stream(tmp_path: Path) -> None:
    """stdout as PYTHONUNBUFFERED=1 (the Docker image's setting) makes it: a stream that writes
    whatever it is given at once. The lines of a moment still go out together, not one system
    call each: none is there as it is written, all are, in order, within FLUSH_SECONDS."""
    path = tmp_path / "stdout"
    stream = io.TextIOWrapper(io.FileIO(path, "w"), encoding="utf-8", write_through=True)
    logger = logging.getLogger("stateset_gateway.test_request_log.unbuffered")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = JsonStreamHandler(stream)
    logger.handlers = [handler]
    try:
        lines = RequestLog(logger.name)
        for n in range(3):
            lines.write({**FIELDS, "path": f"/{n}"})
        assert path.read_bytes() == b""
        await asyncio.sleep(FLUSH_SECONDS * 4)
        assert [line["path"] for line in _lines(path)] == ["/0", "/1", "/2"]
    finally:
        logger.handlers = []
        logger.propagate = True
        stream.close()


def test_line_goes_through_logging_when_anything_else_listens(
    isolated_logger: tuple[logging.Logger, Path]
) -> None:
    logger, path = isolated_logger
    seen: list[logging.LogRecord] = []
    extra = logging.Handler()
    extra.emit = seen.append  # type: ignore[method-assign]
    logger.addHandler(extra)
    try:
        RequestLog(logger.name).write(dict(FIELDS))
    finally:
        logger.removeHandler(extra)
    assert [r.getMessage() for r in seen] == ["request"] and seen[0].status == 200  # type: ignore[attr-defined]
    assert len(_lines(path)) == 1  # and our own handler still got it, once


def test_nothing_is_written_below_the_loggers_level(isolated_logger: tuple[logging.Logger, Path]) -> None:
    logger, path = isolated_logger
    logger.setLevel(logging.WARNING)
    RequestLog(logger.name).write(dict(FIELDS))
    assert path.read_text() == ""


async def test_each_request_is_logged_with_its_response_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stateset_gateway.http")
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    lines = [r for r in caplog.records if r.name == "stateset_gateway.http" and r.getMessage() == "request"]
    assert len(lines) == 1
    line = json.loads(JsonFormatter().format(lines[0]))
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
