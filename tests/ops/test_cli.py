"""The real `stateset-cli`, run as an operator runs it: a separate process configured by APP__ variables.

Why subprocesses: what an operator relies on is the installed entry point, its exit codes and what it
prints, and that it reads the same settings as the server; calling the functions in-process would
skip all of that. Kept to a handful of runs so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from stateset_gateway import startup
from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import OrderStatus
from tests.support import services
from tests.support.databases import fresh_database

_SCRIPT = Path(sys.executable).with_name("stateset-cli")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "stateset_gateway.cli"]


def cli_env(**overrides: str) -> dict[str, str]:
    """The test process's environment without any APP__ override, plus `overrides`; config files
    come from the empty tests/no-config directory (conftest points APP_CONFIG_DIR there)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("APP__")}
    env["APP_CONFIG_DIR"] = str(Path(__file__).parents[1] / "no-config")
    env.pop("APP_ENV", None)
    env.update(overrides)
    return env


def run_cli(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=cli_env(**env), capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture(params=services.backends())
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


async def test_migrate_status_up_down_then_seed(fresh_url: str) -> None:
    status = run_cli("migrate", "status", APP__DATABASE_URL=fresh_url)
    assert status.returncode == 0, status.stderr
    assert "current: (none)" in status.stdout and "pending: 0001, 0002, 0003, 0004" in status.stdout

    up = run_cli("migrate", "up", APP__DATABASE_URL=fresh_url)
    assert up.returncode == 0, up.stderr
    status = run_cli("migrate", "status", APP__DATABASE_URL=fresh_url)
    assert "current: 0004" in status.stdout and "up to date" in status.stdout

    down = run_cli("migrate", "down", APP__DATABASE_URL=fresh_url)
    assert down.returncode == 0, down.stderr
    assert "current: 0003" in run_cli("migrate", "status", APP__DATABASE_URL=fresh_url).stdout
    db = Database(load_settings(database_url=fresh_url))
    try:
        assert not (await migrate.status(db.engine)).up_to_date

        seeded = run_cli("seed", "--customers", "20", "--products", "5", "--orders", "50",
                         APP__DATABASE_URL=fresh_url)
        assert seeded.returncode == 0, seeded.stderr
        assert "Seeded 20 customers, 5 products in 3 locations, 50 orders" in seeded.stdout
        assert (await migrate.status(db.engine)).up_to_date  # seed migrates a database that is behind

        await _assert_seeded(db, customers=20, products=5, orders=50)
    finally:
        await db.dispose()


def refused_in_one_line(run: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2 and one line on stderr naming what is wrong: no traceback."""
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in run.stderr


async def test_migrate_names_the_revision_reached_and_refuses_unreachable_ones(fresh_url: str) -> None:
    *_, previous, head = migrate.revisions()
    refused_in_one_line(run_cli("migrate", "down", APP__DATABASE_URL=fresh_url), "Nothing to roll back")
    refused_in_one_line(run_cli("migrate", "up", "9999", APP__DATABASE_URL=fresh_url), "'9999'", head)

    up = run_cli("migrate", "up", APP__DATABASE_URL=fresh_url)
    assert up.stdout.strip().endswith(f"database up to {head}."), up.stdout
    down = run_cli("migrate", "down", "-1", APP__DATABASE_URL=fresh_url)
    assert down.stdout.strip().endswith(f"database back to {previous}."), (down.stdout, down.stderr)
    base = run_cli("migrate", "down", "base", APP__DATABASE_URL=fresh_url)
    assert base.stdout.strip().endswith("database back to base (no migration applied)."), base.stdout


async def _assert_seeded(db: Database, *, customers: int, products: int, orders: int) -> None:
    """The counts, every status, and stock that agrees with the orders."""
    async with db.reader() as session:
        async def count(sql: str) -> int:
            return int((await session.execute(text(sql))).scalar_one())

        assert await count("SELECT count(*) FROM customers") == customers
        assert await count("SELECT count(*) FROM products") == products
        assert await count("SELECT count(*) FROM inventory_locations") == 3
        assert await count("SELECT count(*) FROM orders") == orders
        assert await count("SELECT count(*) FROM order_items") >= orders
        statuses = {row[0] for row in (await session.execute(text("SELECT DISTINCT status FROM orders")))}
        assert statuses == {s.value for s in OrderStatus}

        # Stock held for open orders is exactly what the active reservations say, per balance.
        rows = (await session.execute(text(
            "SELECT b.on_hand, b.reserved, (SELECT COALESCE(SUM(r.quantity), 0) FROM inventory_reservations r"
            " WHERE r.product_id = b.product_id AND r.location_id = b.location_id AND r.status = 'active')"
            " FROM inventory_balances b"
        ))).all()
        assert len(rows) == products * 3
        assert all(reserved == int(active) and on_hand >= reserved for on_hand, reserved, active in rows)
        assert sum(reserved for _, reserved, _ in rows) > 0
        # ... and only open orders hold stock.
        assert await count(
            "SELECT count(*) FROM inventory_reservations r JOIN orders o ON o.id = r.order_id"
            " WHERE r.status = 'active' AND o.status NOT IN ('pending', 'confirmed', 'processing', 'on_hold')"
        ) == 0
        # Every order adds up: its lines to its subtotal, and subtotal plus charges to its total (to the
        # cent: SQLite keeps money as REAL).
        assert await count(
            "SELECT count(*) FROM orders o WHERE ABS(o.subtotal - (SELECT SUM(i.line_total) FROM order_items i"
            " WHERE i.order_id = o.id)) > 0.001"
            " OR ABS(o.total - (o.subtotal + o.tax_total + o.shipping_total - o.discount_total)) > 0.001"
        ) == 0


async def test_seeding_again_adds_a_second_set_beside_the_first(fresh_url: str) -> None:
    """The same command twice (same random seed): the second run adds as much again, colliding with
    nothing the first wrote, and the locations are shared."""
    for _ in range(2):
        seeded = run_cli("seed", "--customers", "20", "--products", "5", "--orders", "50",
                         APP__DATABASE_URL=fresh_url)
        assert seeded.returncode == 0, seeded.stderr
        assert "Seeded 20 customers, 5 products in 3 locations, 50 orders" in seeded.stdout
    db = Database(load_settings(database_url=fresh_url))
    try:
        await _assert_seeded(db, customers=40, products=10, orders=100)
    finally:
        await db.dispose()


async def test_seed_after_serve_demo_adds_beside_the_demo_data(fresh_url: str) -> None:
    """`make run` (serve --demo) and then `stateset-cli seed`: the seed adds its set beside the demo's."""
    settings = load_settings(database_url=fresh_url, auto_migrate=True)
    db = Database(settings)
    try:
        lines = await startup.prepare(db, settings, demo=True)
        assert "Demo data: 50 customers, 20 products, 200 orders." in lines
        seeded = run_cli("seed", "--customers", "20", "--products", "5", "--orders", "50",
                         APP__DATABASE_URL=fresh_url)
        assert seeded.returncode == 0, seeded.stderr
        assert "Seeded 20 customers, 5 products in 3 locations, 50 orders" in seeded.stdout
        await _assert_seeded(db, customers=70, products=25, orders=250)
    finally:
        await db.dispose()


async def test_serve_demo_on_a_schema_behind_skips_the_demo_and_says_why(fresh_url: str) -> None:
    settings = load_settings(database_url=fresh_url, auto_migrate=False)
    db = Database(settings)
    try:
        lines = await startup.prepare(db, settings, demo=True)
    finally:
        await db.dispose()
    assert lines == [f"Warning: {len(migrate.revisions())} migration(s) pending; run `stateset-cli migrate up`.",
                     "Demo data skipped: the schema has no tables to hold it until it is migrated."]


def test_config_show_masks_secrets_and_url_passwords() -> None:
    shown = run_cli(
        "config", "show",
        APP__DATABASE_URL="postgres://stateset:pg-s3cret-pw@db.internal:5432/stateset",
        APP__REDIS_URL="redis://:redis-s3cret-pw@cache.internal:6379/0",
        APP__AUTH__JWT_SECRET="jwt-s3cret-value-that-is-long-enough-1234",
        APP__PORT="8081",
    )
    assert shown.returncode == 0, shown.stderr
    for secret in ("pg-s3cret-pw", "redis-s3cret-pw", "jwt-s3cret-value"):
        assert secret not in shown.stdout
    config = json.loads(shown.stdout)
    assert config["port"] == 8081
    assert config["database_url"].startswith("postgres://stateset:")
    assert config["database_url"].endswith("@db.internal:5432/stateset")
    assert config["redis_url"].endswith("@cache.internal:6379/0")
    assert config["auth"]["jwt_secret"] == "********"


def test_bad_value_refuses_to_start_naming_the_key() -> None:
    refused = run_cli("serve", timeout=60, APP__PORT="abc")
    assert refused.returncode != 0
    assert "APP__PORT" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_misspelt_key_refuses_to_start_and_a_misspelt_variable_is_named(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text("prot = 8081\n", encoding="utf-8")
    refused = run_cli("serve", timeout=60, APP_CONFIG_DIR=str(tmp_path))
    assert refused.returncode == 2
    assert "unknown key 'prot' (did you mean 'port'?)" in refused.stderr
    assert "Traceback" not in refused.stderr and "GraphiQL" not in refused.stdout

    warned = run_cli("config", "show", APP__PROT="8081", APP__LOGGING__LEVEL="debug")
    assert warned.returncode == 0, warned.stderr
    assert "APP__PROT matches no setting and is ignored (did you mean APP__PORT?)" in warned.stderr
    assert json.loads(warned.stdout)["logging"]["level"] == "DEBUG"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_on_a_port_in_use_says_so_at_once(tmp_path: Path) -> None:
    """No banner, nothing migrated, the guide's advice (set APP__PORT), a non-zero exit within seconds."""
    database = tmp_path / "untouched.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        refused = run_cli("serve", timeout=60, APP__PORT=str(port), APP__DATABASE_URL=f"sqlite:///{database}")
    assert refused.returncode == 1
    assert time.monotonic() - started < 15  # the CLI's own start-up, not uvicorn's failure much later
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"Error: Address already in use: another process listens on 127.0.0.1:{port}.")
    assert "Set APP__PORT to a free port" in refused.stderr and "Traceback" not in refused.stderr
    assert not database.exists()


async def test_serve_listens_on_app_port(fresh_url: str) -> None:
    """`serve` on APP__PORT: ready, the documented 404, and the database kind of APP__DATABASE_URL
    (`postgres://` on PostgreSQL). On SQLite it migrates the new file first (readiness is 503 on a
    schema behind, tests/ops/test_readiness_schema.py)."""
    port = _free_port()
    url = fresh_url.replace("postgresql://", "postgres://", 1)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if kind == "postgresql":  # auto_migrate is off there: migrated first, as the README says to
        db = Database(load_settings(database_url=url))
        try:
            await migrate.upgrade(db.write_engine)
        finally:
            await db.dispose()
    proc = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=cli_env(APP__DATABASE_URL=url, APP__PORT=str(port)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        ready: httpx.Response | None = None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    ready = await client.get("/health/readiness")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            assert ready is not None, f"serve never answered on {port}"
            assert ready.status_code == 200
            assert (await client.get("/health/version")).json()["database"] == kind
            missing = await client.get("/api/v1/order")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "NOT_FOUND"
            assert missing.json()["error"]["request_id"] == missing.headers["x-request-id"]
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            raw, _ = await asyncio.wait_for(proc.communicate(), timeout=15)
        except TimeoutError:
            proc.kill()
            raw, _ = await proc.communicate()
    output = raw.decode(errors="replace")
    if kind == "sqlite":
        assert "schema up to date" in output
        db = Database(load_settings(database_url=url))
        try:
            assert (await migrate.status(db.engine)).up_to_date
        finally:
            await db.dispose()
