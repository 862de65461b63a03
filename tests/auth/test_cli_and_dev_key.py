"""The development API key `serve` prints, and the `auth` CLI commands (in-process, via Typer's runner)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from stateset_gateway import startup
from stateset_gateway.auth.dev_key import key_path
from stateset_gateway.cli import app as cli
from stateset_gateway.config import Settings, load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database


def _key_from(lines: list[str]) -> str:
    line = next(line for line in lines if line.startswith("Dev API key (admin): "))
    return line.removeprefix("Dev API key (admin): ")


async def test_serve_prints_a_working_dev_key_once_and_remembers_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # PostgreSQL keeps the file in the working directory
    first = await startup.prepare(db, settings, demo=False)
    key = _key_from(first)
    assert key.startswith("sk_")
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["data"]["permissions"] == ["admin:*"]
    assert key_path(settings).read_text().strip() == key
    assert key_path(settings).stat().st_mode & 0o077 == 0

    again = await startup.prepare(db, settings, demo=False)
    assert _key_from(again) == key  # the same key, not a second one
    keys = await client.get("/api/v1/auth/api-keys", headers={"X-API-Key": key})
    assert keys.json()["data"]["total"] == 1

    key_path(settings).unlink()
    note = await startup.prepare(db, settings, demo=False)
    assert not any(line.startswith("Dev API key (admin)") for line in note)
    assert any("exists" in line for line in note)


async def test_no_dev_key_outside_development(database_url: str, db: Database) -> None:
    production = load_settings(database_url=database_url, env="production", auth={"jwt_secret": "p" * 40})
    lines = await startup.prepare(db, production, demo=False)
    assert not any("API key" in line for line in lines)


def test_cli_create_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("APP__DATABASE_URL", url)

    async def migrate_up() -> None:
        database = Database(load_settings(database_url=url))
        await migrate.upgrade(database.write_engine)
        await database.dispose()

    asyncio.run(migrate_up())
    runner = CliRunner()
    created = runner.invoke(cli, ["auth", "api-keys", "create", "--name", "New Key",
                                  "--permissions", "orders:read,orders:create"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("sk_") and len(key) >= 35

    listed = runner.invoke(cli, ["auth", "api-keys", "list"])
    assert listed.exit_code == 0 and "New Key" in listed.output and key not in listed.output
    key_id = listed.output.split()[0]

    unknown = runner.invoke(cli, ["auth", "api-keys", "create", "--name", "x", "--permissions", "orders:fly"])
    assert unknown.exit_code == 2
    assert "Unknown permission(s): orders:fly" in unknown.output and "orders:read" in unknown.output

    revoked = runner.invoke(cli, ["auth", "api-keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert "No active API keys" in runner.invoke(cli, ["auth", "api-keys", "list"]).output
    assert "revoked" in runner.invoke(cli, ["auth", "api-keys", "list", "--all"]).output
