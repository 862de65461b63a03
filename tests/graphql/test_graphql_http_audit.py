"""The graphql-http audit (the GraphQL-over-HTTP spec's own test suite) against a live gateway on
loopback: every check, MUST, SHOULD and MAY, passes. Node is required: without it the test fails."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from stateset_gateway.app import create_app
from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database

AUDIT = Path(__file__).parent / "audit"
INSTALLED = Path(__file__).parents[2] / ".cache" / "graphql-http-audit"


def _installed_audit() -> Path:
    """The audit's package, installed from its lock file into an ignored cache folder once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are required for the graphql-http audit"
    sources = ("package.json", "package-lock.json", "audit.mjs")
    current = all((INSTALLED / name).exists() and (INSTALLED / name).read_bytes() == (AUDIT / name).read_bytes()
                  for name in sources)
    if not current or not (INSTALLED / "node_modules" / "graphql-http").is_dir():
        INSTALLED.mkdir(parents=True, exist_ok=True)
        for name in sources:
            shutil.copyfile(AUDIT / name, INSTALLED / name)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=INSTALLED, check=True, timeout=300)
    return INSTALLED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    """A gateway served by uvicorn on a free loopback port, on a migrated SQLite database."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'audit.db'}")

    async def migrated() -> None:
        db = Database(settings)
        await migrate.upgrade(db.write_engine)
        await db.dispose()

    asyncio.run(migrated())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/graphql"
    server.should_exit = True
    thread.join(timeout=10)


def test_graphql_http_audit_passes_every_check(gateway: str) -> None:
    audit = _installed_audit()
    run = subprocess.run(["node", "audit.mjs", gateway], cwd=audit, capture_output=True, text=True, timeout=120,
                         check=True)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    failing = [r for r in results if r["status"] != "ok"]
    assert not failing, json.dumps(failing, indent=1)
    assert len(results) == 61
