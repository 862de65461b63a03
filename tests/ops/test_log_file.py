"""logs/stateset.log as the troubleshooting guide uses it: written by default in development, only
when configured elsewhere, one JSON object per line, and bounded by rotation."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from stateset_gateway.config import load_settings
from stateset_gateway.http.logs import JsonFileHandler, RequestLog


def test_development_logs_to_the_guides_file_by_default_and_production_only_when_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP__LOGGING__FILE")  # the suite's own runs keep logs/ out of the checkout
    assert load_settings().log_file == Path("logs/stateset.log")
    production = {"env": "production", "auth": {"jwt_secret": "p" * 40}}
    assert load_settings(**production).log_file is None
    assert load_settings(**production, logging={"file": "/var/log/stateset.log"}).log_file == Path(
        "/var/log/stateset.log")
    monkeypatch.setenv("APP__LOGGING__FILE", "off")
    assert load_settings().log_file is None
    monkeypatch.setenv("APP__LOGGING__FILE", "elsewhere/gateway.log")
    assert load_settings().log_file == Path("elsewhere/gateway.log")


def _write_twenty_lines_and_read_them(tmp_path: Path) -> list[dict[str, Any]]:
    """Twenty request lines through a file handler bounded at 600 bytes and two backups, closed
    then (which writes out any still waiting): the files' lines, oldest first. Checks that each
    file is within its bound and that no third backup was made."""
    logger = logging.getLogger("stateset_gateway.test_log_file")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    path = tmp_path / "stateset.log"
    handler = JsonFileHandler(path, maxBytes=600, backupCount=2)  # as configure_logging makes it
    logger.addHandler(handler)
    try:
        for n in range(20):
            RequestLog(logger.name).write({"method": "GET", "path": f"/api/v1/orders/{n}", "status": 200})
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.propagate = True
    files = [path, path.with_name("stateset.log.1"), path.with_name("stateset.log.2")]
    assert all(f.exists() and 0 < f.stat().st_size <= 600 for f in files)
    assert not path.with_name("stateset.log.3").exists()
    return [json.loads(line) for f in reversed(files) for line in f.read_text().splitlines()]


def test_request_lines_roll_over_when_the_file_is_full(tmp_path: Path) -> None:
    """The request line is written without logging's record machinery (RequestLog), so it checks
    the rollover itself: the file never grows past its bound, and every line stays whole JSON."""
    lines = _write_twenty_lines_and_read_them(tmp_path)  # no event loop: each is written at once
    assert [line["path"] for line in lines][-1] == "/api/v1/orders/19"
    assert all(line["message"] == "request" for line in lines)


async def test_lines_written_out_together_roll_over_between_them(tmp_path: Path) -> None:
    """In a served process the lines of a moment are written in one go, more than a file holds
    here: the bound is still kept line by line, and the newest lines, in order, are the ones kept."""
    lines = _write_twenty_lines_and_read_them(tmp_path)  # in a loop: all twenty wait, and go out together
    paths = [line["path"] for line in lines]
    assert paths == [f"/api/v1/orders/{n}" for n in range(20 - len(paths), 20)]
