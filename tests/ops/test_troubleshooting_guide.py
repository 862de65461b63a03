"""docs/TROUBLESHOOTING.md and the README, command by command: every `bash` block runs, in order,
against a gateway started as `make run` starts it (on PostgreSQL, with Redis, as the guide's commands
assume) and exits 0, except the few named with why; the guide's TOML blocks are settings the gateway
accepts, its YAML blocks parse. The documents speak of 127.0.0.1:8080; here the gateway has a free
port instead."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stateset_gateway.config import load_settings
from stateset_gateway.http.logs import FLUSH_SECONDS
from tests.support import services
from tests.support.databases import fresh_database
from tests.support.served import CLI, Served, cli_env, served_gateway

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "TROUBLESHOOTING.md"
README = GUIDE.parents[1] / "README.md"
README_NOT_RUN = {
    ("Quick start", 0): "`make run` is how the gateway these blocks run against was started",
    ("Switching to PostgreSQL", 0): "creates and serves a database of a fixed name on the shared server",
    ("Deploy with Docker Compose", 0): "needs a Docker daemon (tests/ops/test_deployment.py checks the files)",
    ("Deploy to Kubernetes", 0): "needs a cluster (tests/ops/test_deployment.py validates the manifests)",
    ("Benchmarks", 0): "minutes of load (bench has its own tests)",
    ("API keys", 0): "a synopsis: optional parts in brackets, an id to fill in, a password prompt",
}
README_PRINTS = {
    ("Quick start", 1): ['{"status":"ready"', '"code":"NOT_FOUND"'],
    ("REST API (/api/v1)", 0): ['"total_pages"', '"status": "pending"', '"available"', '"code":"NOT_FOUND"',
                                '"code":"VALIDATION_ERROR"', '"code":"INVALID_TOKEN"'],
    ("Idempotent retries", 0): ['"success":true'],
    ("Providers", 0): ['"code": "PAYMENT_FAILED"', '"provider_code": "card_declined"', '"status": "partially_refunded"'],
}
NOT_RUN = {
    ("Port 8080 Already in Use", 0): "starts a second gateway in the foreground",
    ("Migration Failed - Table Already Exists", 0): "deletes and recreates the database",
    ("SSL/TLS Certificate Issues", 0): "installs system packages",
}
# What some blocks must print, beyond exiting 0.
PRINTS = {
    ("GraphiQL or Swagger UI stays blank", 0): ["200"],
    ("Cannot Connect to PostgreSQL", 0): ["accepting connections", "(1 row)"],
    ("Migration Failed - Table Already Exists", 1): ["up to date"],
    ("Foreign Key Constraint Failed", 0): ['"status": "pending"'],
    ("API Key Not Working", 0): ["Created API key 'New Key'", "sk_"],
    ('"Insufficient Permissions" Error', 0): ["ann@example.com now has role manager"],
    ("400 Bad Request - Validation Error", 0): ['"password"', '"Password must be at least 8 characters"',
                                                '"user@example.com"'],
    ("500 Internal Server Error", 0): ['"request_id":"req-abc123"'],
    ("Idempotency Not Working", 0): ["201", "idempotent-replayed: true"],
    ("OAuth Integration Issues", 0): ['"token_endpoint"'],
    ("Collect Diagnostic Information", 0): ["ok    database:", "ok    redis:", '"version"', "req-abc123"],
    ("Useful Debug Commands", 0): ["(1 row)", "PONG", "< HTTP/1.1 200"],
}


def _sections(document: Path = GUIDE) -> Iterator[tuple[str, str, str]]:
    """(heading, language, body) of every fenced block, under the nearest ### (or ##) heading."""
    heading = ""
    for match in re.finditer(r"^(#{2,4}) ([^\n]+)$|^ *```(\w*)\n(.*?)^ *```", document.read_text(encoding="utf-8"),
                             flags=re.M | re.S):
        if match[1]:
            heading = match[2].strip().strip("`")
            heading = re.sub(r"^Solution \d: ", "", heading)
        else:
            yield heading, match[3], textwrap.dedent(match[4])


def _blocks(language: str, document: Path = GUIDE) -> list[tuple[tuple[str, int], str]]:
    counted: dict[str, int] = {}
    found = []
    for heading, lang, body in _sections(document):
        if lang == language:
            n = counted.get(heading, 0)
            counted[heading] = n + 1
            found.append(((heading, n), body))
    return found


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[tuple[Served, str]]:
    """`make run` on a fresh PostgreSQL database migrated with the guide's own command, and that
    database's URL."""
    folder = tmp_path_factory.mktemp("guide")
    async with fresh_database(services.backends()[-1], folder) as url:
        migrated = subprocess.run([*CLI, "migrate", "up"], env=cli_env(APP__DATABASE_URL=url), capture_output=True,
                                  text=True, timeout=180, check=False)
        assert migrated.returncode == 0, migrated.stderr
        with served_gateway(folder, APP__DATABASE_URL=url, APP__REDIS_URL=redis_url) as served:
            yield served, url


def _run_blocks(document: Path, not_run: dict[tuple[str, int], str], prints: dict[tuple[str, int], list[str]],
                gateway: tuple[Served, str], redis_url: str) -> int:
    """Run every bash block of `document` but `not_run`, in order, in the served gateway's folder;
    each must exit 0 (under `set -e -o pipefail`) and print what `prints` says. Returns how many ran."""
    served, database_url = gateway
    # The README's blocks read as one shell session: its REST block sets API, later ones use it.
    env = cli_env(KEY=served.key, API=f"{served.url}/api/v1", APP__PORT=str(served.port), APP__REDIS_URL=redis_url,
                  APP__DATABASE_URL=database_url,
                  PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    blocks = _blocks("bash", document)
    ran = 0
    for where, body in blocks:
        if where in not_run:
            continue
        script = re.sub(r"(localhost|127\.0\.0\.1):8080", f"127.0.0.1:{served.port}", body)
        script = script.replace(":8080", f":{served.port}")
        if "req-abc123" in script:  # the request the guide looks for in the log
            httpx.get(f"{served.url}/api/v1/order", headers={"X-Request-ID": "req-abc123"}, timeout=10)
            time.sleep(FLUSH_SECONDS * 4)  # a served request's line reaches the file within FLUSH_SECONDS
        run = subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env, cwd=served.folder,
                             capture_output=True, text=True, timeout=180, check=False)
        output = run.stdout + run.stderr
        assert run.returncode == 0, f"{where}: exit {run.returncode}\n{script}\n{output}"
        for expected in prints.get(where, []):
            assert expected in output, f"{where}: {expected!r} not in\n{output}"
        ran += 1
    assert ran == len(blocks) - len(not_run)
    assert {where for where, _ in blocks} >= set(not_run) | set(prints)
    return ran


def test_every_command_block_runs_as_written(gateway: tuple[Served, str], redis_url: str) -> None:
    assert _run_blocks(GUIDE, NOT_RUN, PRINTS, gateway, redis_url) >= 25


def test_the_readmes_command_blocks_run_against_the_demo_data(gateway: tuple[Served, str], redis_url: str) -> None:
    served, _ = gateway
    api = f"{served.url}/api/v1"
    customer = httpx.get(f"{api}/customers?limit=1", headers={"X-API-Key": served.key}).json()["data"]["items"][0]
    product = httpx.get(f"{api}/inventory?low_stock=false&limit=1",
                        headers={"X-API-Key": served.key}).json()["data"]["items"][0]
    order = {"customer_id": customer["id"], "items": [{"product_id": product["product_id"], "quantity": 1}]}
    (served.folder / "order.json").write_text(json.dumps(order))  # the idempotency example's `-d @order.json`
    ran = _run_blocks(README, README_NOT_RUN, README_PRINTS, gateway, redis_url)
    assert ran >= 4


@pytest.mark.parametrize("where,body", _blocks("toml"), ids=lambda v: v[0] if isinstance(v, tuple) else "")
def test_every_toml_block_is_accepted_by_the_gateway(where: tuple[str, int], body: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "default.toml").write_text(body)
    monkeypatch.setenv("APP_CONFIG_DIR", str(tmp_path))
    load_settings()  # an unknown key or section, or a bad value, raises ConfigError naming it


@pytest.mark.parametrize("where,body", _blocks("yaml"), ids=lambda v: v[0] if isinstance(v, tuple) else "")
def test_every_yaml_block_parses(where: tuple[str, int], body: str) -> None:
    assert isinstance(yaml.safe_load(body), dict)
