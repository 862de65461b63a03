"""Configuration as an operator sets it: built-in defaults < config/default.toml < config/{APP_ENV}.toml
< APP__ environment variables, and every key CONTRACT section 7 (and the troubleshooting guide) names
has the effect the guide promises, checked on the running engine or app rather than on the model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from stateset_gateway.app import create_app
from stateset_gateway.config import ConfigError, Settings, load_settings
from stateset_gateway.db.engine import Database
from stateset_gateway.db.errors import to_domain_error
from stateset_gateway.errors import ServiceUnavailable
from stateset_gateway.http.logs import configure_logging

STRONG_SECRET = "k" * 40


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty config directory the settings read instead of the repository's config/."""
    directory = tmp_path / "config"
    directory.mkdir()
    monkeypatch.setenv("APP_CONFIG_DIR", str(directory))
    monkeypatch.delenv("APP_ENV", raising=False)
    yield directory


def write(path: Path, body: str) -> None:
    path.write_text(body, encoding="utf-8")


# --- precedence ------------------------------------------------------------------------------------


def test_built_in_defaults(config_dir: Path) -> None:
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_url == "sqlite:///stateset.db"
    assert settings.database_kind == "sqlite"
    assert settings.redis_url is None
    assert settings.should_auto_migrate  # on by default for SQLite


def test_each_layer_overrides_the_one_below(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(config_dir / "default.toml", 'port = 9001\nhost = "0.0.0.0"\n[database]\nmax_connections = 7\n'
                                       "idle_timeout = 55\n[cache]\nmax_size_mb = 64\n")
    assert load_settings().port == 9001

    write(config_dir / "staging.toml", "port = 9002\n[database]\nmin_connections = 3\n")
    monkeypatch.setenv("APP_ENV", "staging")
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", STRONG_SECRET)  # staging is not development
    staged = load_settings()
    assert staged.env == "staging"
    assert staged.port == 9002  # {APP_ENV}.toml beats default.toml
    assert staged.host == "0.0.0.0"  # ... and keeps what it does not set
    # A table in the environment file merges into default.toml's table instead of replacing it.
    assert (staged.database.max_connections, staged.database.min_connections) == (7, 3)
    assert staged.database.idle_timeout == 55
    assert staged.cache.max_size_mb == 64

    monkeypatch.setenv("APP__PORT", "9003")
    monkeypatch.setenv("APP__DATABASE__IDLE_TIMEOUT", "99")
    from_env = load_settings()
    assert from_env.port == 9003  # the environment beats every file
    assert from_env.database.idle_timeout == 99
    assert from_env.database.max_connections == 7  # nested env keys merge too


def test_other_environment_files_are_ignored(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(config_dir / "production.toml", "port = 1111\n")
    assert load_settings().port == 8080  # APP_ENV unset: development


# --- the keys the guide names ----------------------------------------------------------------------


def test_port_and_host_from_environment(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP__PORT", "8081")
    monkeypatch.setenv("APP__HOST", "0.0.0.0")
    settings = load_settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 8081)


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("APP__PORT", "abc", "APP__PORT"),
        ("APP__PORT", "70000", "APP__PORT"),
        ("APP__DATABASE__MAX_CONNECTIONS", "0", "APP__DATABASE__MAX_CONNECTIONS"),
        ("APP__DATABASE_URL", "mysql://u@h/db", "APP__DATABASE_URL"),
        ("APP__REDIS_URL", "http://localhost:6379", "APP__REDIS_URL"),
        ("APP__SERVER__CORS_ORIGINS", "not-json", "APP__SERVER__CORS_ORIGINS"),
    ],
)
def test_bad_value_is_refused_naming_the_key(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert fragment in str(refused.value)


def test_bad_value_in_a_file_names_the_key(config_dir: Path) -> None:
    write(config_dir / "default.toml", '[database]\nconnect_timeout = "soon"\n')
    with pytest.raises(ConfigError, match="APP__DATABASE__CONNECT_TIMEOUT"):
        load_settings()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
async def test_postgres_urls_of_both_spellings_use_asyncpg(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, database_url: str, backend: str, scheme: str
) -> None:
    if backend != "postgresql":
        pytest.skip("needs the PostgreSQL test database")
    monkeypatch.setenv("APP__DATABASE_URL", f"{scheme}://" + database_url.split("://", 1)[1])
    settings = load_settings()
    db = Database(settings)
    try:
        assert settings.database_kind == "postgresql"
        assert db.engine.url.drivername == "postgresql+asyncpg"
        await db.ping()  # and it really connects through that driver
    finally:
        await db.dispose()


async def test_sqlite_default_url_is_the_stateset_db_file(config_dir: Path) -> None:
    db = Database(load_settings())
    try:
        assert db.engine.url.drivername == "sqlite+aiosqlite"
        assert db.engine.url.database == "stateset.db"
    finally:
        await db.dispose()


def test_redis_url_from_environment(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP__REDIS_URL", "redis://localhost:6379")
    assert load_settings().redis_url == "redis://localhost:6379"
    monkeypatch.setenv("APP__REDIS_URL", "")
    assert load_settings().redis_url is None  # empty means "no Redis", not an invalid URL


async def test_connect_timeout_in_milliseconds_sets_sqlite_busy_timeout(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The guide's fix for "database is locked": APP__DATABASE__CONNECT_TIMEOUT=30000 (ms) is 30 s."""
    monkeypatch.setenv("APP__DATABASE__CONNECT_TIMEOUT", "30000")
    monkeypatch.setenv("APP__DATABASE_URL", f"sqlite:///{tmp_path / 'busy.db'}")
    settings = load_settings()
    assert settings.database.connect_timeout_seconds == 30
    db = Database(settings)
    try:
        for engine in (db.engine, db.write_engine):
            async with engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30000
    finally:
        await db.dispose()
    monkeypatch.setenv("APP__DATABASE__CONNECT_TIMEOUT", "5")  # plain seconds stay seconds
    assert load_settings().database.connect_timeout_seconds == 5


async def test_max_connections_bounds_the_pool(database_url: str) -> None:
    """With every pooled connection busy, the next request waits `connect_timeout` and then gets the
    guide's "Timeout acquiring connection from pool" as SERVICE_UNAVAILABLE, not a hang or a 500."""
    db = Database(load_settings(database_url=database_url,
                                database={"max_connections": 2, "connect_timeout": 1}))
    try:
        held = [await db.engine.connect() for _ in range(2)]
        started = time.monotonic()
        with pytest.raises(Exception) as exhausted:
            await db.ping(timeout=10)
        waited = time.monotonic() - started
        error = to_domain_error(exhausted.value)
        assert isinstance(error, ServiceUnavailable)
        assert "pool" in error.message.lower()
        assert 0.8 <= waited < 5
        for conn in held:
            await conn.close()
        await db.ping()  # a returned connection serves the next caller
    finally:
        await db.dispose()


async def test_min_connections_are_opened_ahead_of_traffic(database_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite opens its file on first use; there is no server connection to warm")
    db = Database(load_settings(database_url=database_url, database={"min_connections": 3}))
    try:
        await db.warm_up()
        assert db.engine.pool.checkedin() == 3
    finally:
        await db.dispose()


async def test_idle_timeout_recycles_pooled_connections(database_url: str, backend: str) -> None:
    """A pooled connection older than idle_timeout is replaced, so a server-side idle cut-off or a
    failed-over database never hands a dead connection to a request."""
    if backend != "postgresql":
        pytest.skip("needs server connections (backend pids)")

    async def backend_pid(db: Database) -> int:
        async with db.engine.connect() as conn:
            return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    recycling = Database(load_settings(database_url=database_url, database={"idle_timeout": 1}))
    keeping = Database(load_settings(database_url=database_url, database={"idle_timeout": 600}))
    try:
        first_recycling, first_keeping = await backend_pid(recycling), await backend_pid(keeping)
        await asyncio.sleep(1.3)
        assert await backend_pid(recycling) != first_recycling
        assert await backend_pid(keeping) == first_keeping
    finally:
        await recycling.dispose()
        await keeping.dispose()


# --- CORS ------------------------------------------------------------------------------------------


async def _cors_preflight(settings: Settings, origin: str) -> httpx.Response:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.options("/api/v1/orders", headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        })


async def test_cors_from_default_toml_allows_the_configured_origin(config_dir: Path) -> None:
    write(config_dir / "default.toml", '[server]\ncors_origins = ["http://localhost:3000", "https://yourdomain.com"]\n'
                                       'cors_methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]\n'
                                       'cors_headers = ["Authorization", "Content-Type", "X-API-Key"]\n')
    settings = load_settings()
    allowed = await _cors_preflight(settings, "http://localhost:3000")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    refused = await _cors_preflight(settings, "http://evil.example")
    assert "access-control-allow-origin" not in refused.headers


async def test_cors_methods_and_headers_are_enforced(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP__SERVER__CORS_ORIGINS", '["http://localhost:3000"]')
    monkeypatch.setenv("APP__SERVER__CORS_METHODS", '["GET"]')
    monkeypatch.setenv("APP__SERVER__CORS_HEADERS", '["X-API-Key"]')
    response = await _cors_preflight(load_settings(), "http://localhost:3000")
    # POST and Authorization were not configured: a non-2xx preflight makes the browser block the call.
    assert response.status_code == 400
    assert "POST" not in response.headers.get("access-control-allow-methods", "")


async def test_cors_wildcard_for_development(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP__SERVER__CORS_ORIGINS", '["*"]')
    response = await _cors_preflight(load_settings(), "http://localhost:3000")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:3000")


async def test_no_cors_origins_means_no_cross_origin_access(config_dir: Path) -> None:
    response = await _cors_preflight(load_settings(), "http://localhost:3000")
    assert "access-control-allow-origin" not in response.headers


def test_cache_size_from_file_and_environment(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().cache.max_size_mb == 128
    write(config_dir / "default.toml", "[cache]\nmax_size_mb = 64\n")
    assert load_settings().cache.max_size_mb == 64
    monkeypatch.setenv("APP__CACHE__MAX_SIZE_MB", "32")
    assert load_settings().cache.max_size_mb == 32


# --- secrets outside development -------------------------------------------------------------------


@pytest.mark.parametrize("app_env", ["production", "staging"])
def test_default_jwt_secret_refuses_to_start_outside_development(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, app_env: str
) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    with pytest.raises(ConfigError, match="APP__AUTH__JWT_SECRET"):
        load_settings()
    with pytest.raises(ConfigError, match="APP__AUTH__JWT_SECRET"):
        create_app()  # the server itself refuses, not just the CLI
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", "too-short")
    with pytest.raises(ConfigError, match="APP__AUTH__JWT_SECRET"):
        load_settings()
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", STRONG_SECRET)
    assert load_settings().env == app_env


def test_default_jwt_secret_is_fine_in_development(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    assert load_settings().is_development


def test_the_test_payment_provider_is_refused_outside_development_unless_allowed(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It charges nothing: a production that took orders through it would ship unpaid goods."""
    assert load_settings().payment_provider == "test"  # the default in development
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", STRONG_SECRET)
    assert load_settings().payment_provider is None  # no default outside development
    write(config_dir / "production.toml", '[payments]\nprovider = "test"\n')
    with pytest.raises(ConfigError, match="APP__PAYMENTS__PROVIDER"):
        load_settings()
    with pytest.raises(ConfigError, match="APP__PAYMENTS__ALLOW_TEST_PROVIDER"):
        create_app()
    monkeypatch.setenv("APP__PAYMENTS__ALLOW_TEST_PROVIDER", "true")
    assert load_settings().payment_provider == "test"


# --- mistakes an operator makes --------------------------------------------------------------------


def test_unknown_keys_and_sections_in_a_file_are_refused_naming_the_closest(config_dir: Path) -> None:
    write(config_dir / "default.toml", "prot = 8081\n[databse]\nmax_connections = 5\n"
                                       "[database]\nmax_conections = 3\n[server]\nworkers = 2\n")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert str(config_dir / "default.toml") in message
    assert "unknown key 'prot' (did you mean 'port'?)" in message
    assert "unknown section [databse] (did you mean [database]?)" in message
    assert "unknown key 'max_conections' in [database] (did you mean 'max_connections'?)" in message
    assert "workers" not in message  # a known key is not reported


def test_the_environment_file_is_checked_too(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(config_dir / "default.toml", "port = 8081\n")
    write(config_dir / "staging.toml", "[graphql]\nmax_cots = 10\n")
    monkeypatch.setenv("APP_ENV", "staging")
    monkeypatch.setenv("APP__AUTH__JWT_SECRET", STRONG_SECRET)
    with pytest.raises(ConfigError, match=r"staging.toml: unknown key 'max_cots' in \[graphql\] "
                                          r"\(did you mean 'max_cost'\?\)"):
        load_settings()


def test_a_file_that_is_not_toml_is_refused_naming_it(config_dir: Path) -> None:
    write(config_dir / "default.toml", "port = \n")
    with pytest.raises(ConfigError, match=r"default.toml: not valid TOML: .*line 1"):
        load_settings()


def test_unknown_environment_variables_are_named_with_the_closest(config_dir: Path) -> None:
    from stateset_gateway.config import unknown_environment_variables

    environ = {"APP__PROT": "8081", "APP__DATABSE__MAX_CONNECTIONS": "5", "APP__PORT": "8082",
               "APP__DATABASE__MAX_CONNECTIONS": "5", "APP__SERVER__CORS_ORIGINS": "[]", "APP_ENV": "test",
               "PATH": "/bin"}
    assert unknown_environment_variables(environ) == [
        "Warning: APP__DATABSE__MAX_CONNECTIONS matches no setting and is ignored "
        "(did you mean APP__DATABASE__MAX_CONNECTIONS?).",
        "Warning: APP__PROT matches no setting and is ignored (did you mean APP__PORT?).",
    ]


@pytest.mark.parametrize("level", ["debug", "Debug", "DEBUG"])
def test_the_log_level_is_read_in_any_case(config_dir: Path, monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("APP__LOGGING__LEVEL", level)
    create_app(load_settings())
    assert logging.getLogger().level == logging.DEBUG
    write(config_dir / "default.toml", '[logging]\nlevel = "warning"\n')
    monkeypatch.delenv("APP__LOGGING__LEVEL")
    create_app(load_settings())
    assert logging.getLogger().level == logging.WARNING
    configure_logging()


def test_an_unknown_log_level_names_the_levels(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP__LOGGING__LEVEL", "verbose")
    with pytest.raises(ConfigError, match="APP__LOGGING__LEVEL.*'DEBUG', 'INFO', 'WARNING' or 'ERROR'"):
        load_settings()
