"""Settings: built-in defaults < config/default.toml < config/{APP_ENV}.toml < APP__ environment variables.

The keys are the ones the troubleshooting guide names (APP__PORT, APP__DATABASE_URL, [database]
max_connections, ...). A bad value stops start-up with a message naming the key (`load_settings`).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# 64 bytes: long enough for any HMAC algorithm a token may name (RFC 7518 3.2), so PyJWT has no
# key-length warning to give; refused outside development all the same.
DEFAULT_JWT_SECRET = "development-only-jwt-secret-change-me-set-app-auth-jwt-secret-now"


def to_sqlalchemy_url(url: str) -> URL:
    """A database URL as operators write it (`postgres://`, `stateset.db`) -> SQLAlchemy's async URL.

    It lives with the settings because reading `database_url` is a configuration concern: the
    database layer takes the parsed URL from here, never the other way round. SQLAlchemy is imported
    here, not at the top: it doubles the start-up time of CLI commands that never read a setting."""
    from sqlalchemy.engine import make_url

    raw = url.strip()
    if "://" not in raw:  # a bare file name: `stateset.db`
        raw = f"sqlite:///{raw}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise ValueError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///FILE or postgres://USER@HOST/DB")


class DatabaseSettings(BaseModel):
    max_connections: int = Field(20, ge=1, le=1000)
    min_connections: int = Field(1, ge=0, le=1000)
    connect_timeout: float = Field(
        30, gt=0, description="Seconds; values of 1000 or more are read as milliseconds (30000 = 30 s)."
    )
    idle_timeout: int = Field(600, ge=1, description="Seconds before an idle pooled connection is recycled.")
    lock_timeout_ms: int = Field(5000, ge=1, description="Wait for a locked row before RESOURCE_LOCKED.")
    echo: bool = False

    @property
    def connect_timeout_seconds(self) -> float:
        return self.connect_timeout / 1000 if self.connect_timeout >= 1000 else self.connect_timeout


class ServerSettings(BaseModel):
    cors_origins: list[str] = Field(default_factory=list)
    cors_methods: list[str] = Field(default_factory=lambda: ["GET", "POST", "PUT", "DELETE", "PATCH"])
    cors_headers: list[str] = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key", "X-Request-ID"]
    )
    request_timeout: float = Field(30, gt=0, description="Seconds before a request answers 504 TIMEOUT.")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger bodies answer 413 PAYLOAD_TOO_LARGE.")
    workers: int = Field(1, ge=1, le=64)


class CacheSettings(BaseModel):
    max_size_mb: int = Field(128, ge=1)


DEVELOPMENT_LOG_FILE = Path("logs/stateset.log")


class LoggingSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | Literal["off"] | None = Field(
        None, description="Also write JSON log lines here (rotated by size); unset: logs/stateset.log in "
                          "development and no file elsewhere; \"off\": no file.")

    @field_validator("level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        """`debug` is `DEBUG`: the logging module's names are upper case, operators' often are not."""
        return value.upper() if isinstance(value, str) else value


class AuthSettings(BaseModel):
    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_issuer: str = "stateset-gateway"
    jwt_audience: str = "stateset-api"
    access_token_ttl_seconds: int = Field(15 * 60, ge=10)
    refresh_token_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    allow_registration: bool = Field(True, description="Let anyone create an account with /auth/register.")
    registration_role: Literal["manager", "user", "readonly"] = Field(
        "user", description="The role self-registered accounts get."
    )


def rate_rule(value: str) -> str:
    """A `limits` rule ("100/minute", "1000 per hour") or "off"."""
    from limits import parse  # 0.2 s of imports, which CLI commands that read no rule never pay

    if value.strip().lower() == "off":
        return "off"
    try:
        parse(value)
    except ValueError:
        raise ValueError('must be like "100/minute" or "1000 per hour", or "off"') from None
    return value


class GraphQLSettings(BaseModel):
    default_page_size: int = Field(20, ge=1, le=250)
    max_page_size: int = Field(100, ge=1, le=250)
    graphiql: bool = True
    max_cost: int = Field(25_000, ge=1, description="Refuse operations whose computed cost is higher.")
    max_depth: int = Field(12, ge=2, le=100, description="Refuse operations nested deeper than this.")
    # Parsing and validating cost 11 to 17 us of processor per token, whatever the document's shape
    # (measured on the shapes of tests/graphql/test_hardening_documents.py): 3,000 tokens keep every
    # document under 50 ms before execution; the largest operation in the README or the bench is ~100.
    max_tokens: int = Field(3_000, ge=100, description="Refuse documents with more lexical tokens.")
    cost_budget: str = Field("250000/minute", description="Query cost each client may spend per window, or off.")
    executor: Literal["planned", "reference"] = Field("planned", description="or reference: graphql-core.")
    trusted_documents: str | None = Field(None, description="A persisted documents manifest: only its operations run.")
    get_max_age: int = Field(0, ge=0, le=86_400, description="Seconds a browser may keep a GET query's answer; 0: none.")

    @field_validator("cost_budget")
    @classmethod
    def _cost_budget(cls, value: str) -> str:
        return rate_rule(value)


class SubscriptionSettings(BaseModel):
    """GraphQL subscriptions over WebSocket: what one client may hold open, and how fast the server
    notices a revoked credential, a silent client or a new event."""

    max_connections_per_client: int = Field(10, ge=1, description="Open sockets per client, per instance.")
    max_subscriptions_per_connection: int = Field(20, ge=1, description="Subscriptions active on one socket.")
    send_buffer: int = Field(100, ge=1, description="Messages queued for one socket before it is closed as too slow.")
    connection_init_timeout: float = Field(10, gt=0, description="Seconds a socket may stay without connection_init.")
    keepalive_seconds: float = Field(15, gt=0, description="Seconds between the server's pings.")
    auth_recheck_seconds: float = Field(0.5, gt=0, description="Seconds between checks that the credentials still hold.")
    poll_seconds: float = Field(1.0, gt=0, description="Seconds between outbox reads when no wake-up arrives.")
    lookback_seconds: float = Field(10.0, gt=0, description="How far back each outbox read looks for events "
                                                            "committed late (a long transaction's).")


class BusinessSettings(BaseModel):
    return_window_days: int = Field(30, ge=0)
    default_currency: str = Field("USD", min_length=3, max_length=3)


class WebhookSettings(BaseModel):
    allow_private_targets: bool | None = Field(
        None, description="Accept endpoint URLs on private, loopback or link-local addresses; unset means on "
                          "in development, off otherwise.")
    dispatch_in_server: bool = Field(True, description="Run the dispatcher inside `serve` (else run "
                                                       "`stateset-cli webhooks worker`).")
    max_attempts: int = Field(8, ge=1, le=50)
    backoff_seconds: float = Field(60.0, gt=0, description="Delay before the first retry; each next one is "
                                                           "`backoff_factor` times longer, with jitter.")
    backoff_factor: float = Field(3.0, ge=1)
    max_backoff_seconds: float = Field(43_200.0, gt=0)
    timeout_seconds: float = Field(10.0, gt=0, le=60)
    concurrency: int = Field(16, ge=1, le=256, description="Deliveries in flight per dispatcher.")
    poll_interval_seconds: float = Field(1.0, gt=0, le=60)
    lease_seconds: float = Field(60.0, gt=0, description="A claimed delivery returns to the queue after this "
                                                         "when its dispatcher died.")
    disable_after_hours: float = Field(72.0, gt=0, description="Disable an endpoint whose deliveries have "
                                                               "failed for this long without a success.")
    retention_days: int = Field(30, ge=1, description="Finished deliveries and their events are kept this long.")

    def private_targets_allowed(self, development: bool) -> bool:
        return development if self.allow_private_targets is None else self.allow_private_targets
class PaymentSettings(BaseModel):
    provider: Literal["test"] | None = Field(
        None, description="The payment provider; unset means the test provider in development, none elsewhere."
    )
    allow_test_provider: bool = Field(
        False, description="Let the test provider (which charges nothing) run outside development."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="APP__", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    env: str = Field(default_factory=lambda: os.environ.get("APP_ENV", "development"))
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    database_url: str = "sqlite:///stateset.db"
    redis_url: str | None = None
    auto_migrate: bool | None = Field(
        None, description="Bring the schema up to date on `serve`; unset means on for SQLite, off otherwise."
    )
    rate_limit: str = "100/minute"
    tls_verify: bool = True

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)
    subscriptions: SubscriptionSettings = Field(default_factory=SubscriptionSettings)
    business: BusinessSettings = Field(default_factory=BusinessSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        to_sqlalchemy_url(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        return rate_rule(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @cached_property
    def is_development(self) -> bool:
        return self.env in {"development", "dev", "test", "local"}

    @property
    def payment_provider(self) -> str | None:
        """The provider payments go through: `[payments] provider`, else `test` in development."""
        if self.payments.provider is not None:
            return self.payments.provider
        return "test" if self.is_development else None

    @property
    def sqlalchemy_url(self) -> URL:
        return to_sqlalchemy_url(self.database_url)

    @property
    def database_kind(self) -> str:
        return self.sqlalchemy_url.get_backend_name()

    @property
    def log_file(self) -> Path | None:
        """Where JSON log lines also go: `[logging] file`, else logs/stateset.log in development (the
        troubleshooting guide greps it), else nowhere but stdout."""
        if self.logging.file == "off":
            return None
        if self.logging.file is None:
            return DEVELOPMENT_LOG_FILE if self.is_development else None
        return self.logging.file

    @property
    def should_auto_migrate(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else self.database_kind == "sqlite"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # deep_merge: an environment file that sets one key of a table (`[database] min_connections`)
        # must not wipe the other keys default.toml set in that table.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_files(), deep_merge=True)
        return (init_settings, env_settings, toml)


def config_files() -> list[Path]:
    """The TOML files that exist of config/default.toml and config/{APP_ENV}.toml, in that order."""
    config_dir = Path(os.environ.get("APP_CONFIG_DIR", "config"))
    app_env = os.environ.get("APP_ENV", "development")
    return [f for f in (config_dir / "default.toml", config_dir / f"{app_env}.toml") if f.is_file()]


class ConfigError(Exception):
    """Start-up refused: the message names each offending key as an operator would set it."""


def _env_name(loc: tuple[Any, ...]) -> str:
    return "APP__" + "__".join(str(part).upper() for part in loc)


def _unparsable_env_message(exc: SettingsError) -> str:
    """A list or table given in an environment variable that is not JSON fails before validation,
    with an error naming only the top-level field; name the variable(s) the operator actually set."""
    match = re.search(r'field "(\w+)"', str(exc))
    field = match.group(1) if match else ""
    prefix = f"APP__{field.upper()}"
    lines = []
    for key, value in os.environ.items():
        name = key.upper()
        if field and (name == prefix or name.startswith(prefix + "__")):
            try:
                json.loads(value)
            except ValueError:
                path = ".".join(part.lower() for part in name.removeprefix("APP__").split("__"))
                lines.append(f"  {name} ({path}): not valid JSON; write lists and tables as JSON, "
                             f'e.g. {name}=\'["http://localhost:3000"]\'')
    return "Invalid configuration:\n" + ("\n".join(lines) or f"  {prefix}: {exc}")


def _sections(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Each setting of `model` -> the model of its table, or None for a plain value."""
    return {
        name: field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        else None
        for name, field in model.model_fields.items()
    }


def _closest(name: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown_keys(table: Mapping[str, Any], model: type[BaseModel], section: str | None) -> Iterator[str]:
    """A line for each key or table of a TOML table that `model` has no setting for, with the closest
    known name. Top-level keys match in any case, as the TOML source reads them; keys inside a table
    exactly (a `MAX_CONNECTIONS` there is ignored by the source, so it is reported here)."""
    known = _sections(model)
    for key, value in table.items():
        name = key.lower() if section is None else key
        if name in known:
            inner = known[name]
            if inner is not None and isinstance(value, Mapping):
                yield from _unknown_keys(value, inner, name)
            continue
        is_table = isinstance(value, Mapping)
        if section is None and is_table:
            what = f"unknown section [{key}]"
            hint = _closest(key, [k for k, inner in known.items() if inner is not None])
            suggestion = f"[{hint}]" if hint else None
        else:
            what = f"unknown key {key!r}" + (f" in [{section}]" if section else "")
            hint = _closest(key, list(known))
            suggestion = repr(hint) if hint else None
        yield what + (f" (did you mean {suggestion}?)" if suggestion else "")


def _check_files() -> None:
    """Refuse a TOML file that does not parse, or that sets something no setting reads: a misspelt
    key (`prot = 8081`, `[databse]`) would otherwise be ignored without a word."""
    problems = []
    for path in config_files():
        try:
            with path.open("rb") as handle:
                table = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"  {path}: not valid TOML: {exc}")
            continue
        problems.extend(f"  {path}: {problem}" for problem in _unknown_keys(table, Settings, None))
    if problems:
        raise ConfigError("Invalid configuration:\n" + "\n".join(problems))


def _environment_names(model: type[BaseModel], prefix: str = "APP") -> Iterator[str]:
    for name, inner in _sections(model).items():
        variable = f"{prefix}__{name.upper()}"
        yield variable
        if inner is not None:
            yield from _environment_names(inner, variable)


def unknown_environment_variables(environ: Mapping[str, str] = os.environ) -> list[str]:
    """A warning for each APP__ variable no setting reads (`APP__PROT`), naming the closest one.
    A warning, not a refusal: the environment is shared with other programs, whose variables are
    none of our business."""
    known = list(_environment_names(Settings))
    by_lower = {variable.lower(): variable for variable in known}
    warnings = []
    for variable in sorted(environ):
        if variable.upper().startswith("APP__") and variable.upper() not in known:
            hint = _closest(variable, list(by_lower))
            warnings.append(f"Warning: {variable} matches no setting and is ignored"
                            + (f" (did you mean {by_lower[hint]}?)" if hint else "") + ".")
    return warnings


def load_settings(**overrides: Any) -> Settings:
    _check_files()
    try:
        settings = Settings(**overrides)
    except SettingsError as exc:
        raise ConfigError(_unparsable_env_message(exc)) from None
    except ValidationError as exc:
        lines = [
            f"  {_env_name(err['loc'])} ({'.'.join(map(str, err['loc']))}): {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None
    if not settings.is_development:
        secret = settings.auth.jwt_secret.get_secret_value()
        if secret == DEFAULT_JWT_SECRET or len(secret) < 32:
            raise ConfigError(
                "Invalid configuration:\n  APP__AUTH__JWT_SECRET (auth.jwt_secret): outside development the JWT "
                "secret must be set to a random value of at least 32 characters"
            )
        if not settings.tls_verify:
            raise ConfigError("Invalid configuration:\n  APP__TLS_VERIFY (tls_verify): certificates are verified "
                              "outside development; tls_verify=false is for development only")
        if settings.payment_provider == "test" and not settings.payments.allow_test_provider:
            raise ConfigError(
                "Invalid configuration:\n  APP__PAYMENTS__PROVIDER (payments.provider): the test provider charges "
                "nothing and is refused outside development; configure a real provider, or set "
                "APP__PAYMENTS__ALLOW_TEST_PROVIDER=true (payments.allow_test_provider) to run it anyway"
            )
    return settings


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration for `config show`: secrets and URL passwords masked."""
    from sqlalchemy.engine import make_url  # as in to_sqlalchemy_url: kept out of CLI start-up

    data = settings.model_dump(mode="json")
    data["auth"]["jwt_secret"] = "********"
    for key in ("database_url", "redis_url"):
        if data.get(key) and "@" in data[key]:
            try:
                data[key] = make_url(data[key]).render_as_string(hide_password=True)
            except Exception:
                data[key] = "********"
    return data
