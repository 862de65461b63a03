"""`stateset-cli`: serve, migrate, seed, config. Every command reads the same settings as the server.

Commands import the database, authentication and GraphQL modules where they run, not here: loaded
up front, SQLAlchemy, Alembic, argon2 and Strawberry make every `stateset-cli --help` or
`config show` take 2 s instead of 0.4 s.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from stateset_gateway.auth.permissions import ADMIN, ALL_PERMISSIONS, CATALOGUE
from stateset_gateway.config import ConfigError, Settings, load_settings, masked, unknown_environment_variables
from stateset_gateway.errors import ValidationFailed

T = TypeVar("T")

app = typer.Typer(help="StateSet Gateway: GraphQL and REST over orders, inventory, returns and shipments.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
migrate_app = typer.Typer(help="Schema migrations (Alembic).", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
app.add_typer(migrate_app, name="migrate")
app.add_typer(config_app, name="config")
auth_app = typer.Typer(help="Users and API keys.", no_args_is_help=True)
api_keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)
users_app = typer.Typer(help="Users: create one with a role, change a role.", no_args_is_help=True)
auth_app.add_typer(api_keys_app, name="api-keys")
auth_app.add_typer(users_app, name="users")
app.add_typer(auth_app, name="auth")
app.add_typer(schema_app, name="schema")
webhooks_app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for warning in unknown_environment_variables():
        typer.echo(warning, err=True)
    return settings


def _with_db(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from stateset_gateway.db.engine import Database

    async def run() -> T:
        db = Database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except Exception as exc:
        from stateset_gateway.db.errors import to_domain_error  # loads SQLAlchemy: kept out of --help

        error = to_domain_error(exc)
        if error is None:
            raise
        typer.echo(f"Error: {error.message} ({error.code.value})", err=True)
        raise typer.Exit(1) from None


def _migrating(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """`_with_db` for commands that migrate or read the revision: a revision that cannot be reached
    (or that this version does not know) is one line and exit 2."""
    from stateset_gateway.db.migrate import MigrationError

    try:
        return _with_db(settings, work)
    except MigrationError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


def _revision_name(revision: str | None) -> str:
    return revision or "base (no migration applied)"


# A relative step (`down -1`) reads as an argument, not as an unknown option.
_REVISION_ARGUMENT = {"ignore_unknown_options": True}


@migrate_app.command("up", context_settings=_REVISION_ARGUMENT)
def migrate_up(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from stateset_gateway.db import migrate

    settings = _settings()
    reached = _migrating(settings, lambda db: migrate.upgrade(db.write_engine, revision))
    typer.echo(f"Migrated {settings.database_kind} database up to {_revision_name(reached)}.")


@migrate_app.command("down", context_settings=_REVISION_ARGUMENT)
def migrate_down(revision: str = typer.Argument("-1", help="Target revision: -1 (default), an id, or base.")) -> None:
    """Roll back to REVISION (default: the previous one)."""
    from stateset_gateway.db import migrate

    settings = _settings()
    reached = _migrating(settings, lambda db: migrate.downgrade(db.write_engine, revision))
    typer.echo(f"Rolled {settings.database_kind} database back to {_revision_name(reached)}.")


@migrate_app.command("status")
def migrate_status() -> None:
    """Show the applied and pending migrations."""
    from stateset_gateway.db import migrate

    status = _migrating(_settings(), lambda db: migrate.status(db.engine))
    typer.echo(f"current: {status.current or '(none)'}")
    typer.echo(f"head:    {status.head}")
    typer.echo("up to date" if status.up_to_date else f"pending: {', '.join(status.pending)}")


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration, secrets masked."""
    typer.echo(json.dumps(masked(_settings()), indent=2))


@schema_app.command("print")
def schema_print() -> None:
    """Print the GraphQL schema in SDL (the committed schema.graphql is this output)."""
    from stateset_gateway.schema.schema import sdl

    typer.echo(sdl(), nl=False)


def _permissions_or_exit(raw: str) -> list[str]:
    """Check names against the catalogue before touching the database, listing what is valid."""
    from stateset_gateway.auth.api_keys import validate_permissions

    try:
        return validate_permissions(raw.split(","))
    except ValidationFailed as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        known = ", ".join(sorted(ALL_PERMISSIONS)) + f", {ADMIN}, " + ", ".join(f"{r}:*" for r in CATALOGUE)
        typer.echo(f"Known permissions: {known}", err=True)
        raise typer.Exit(2) from None


@api_keys_app.command("create")
def api_keys_create(
    name: Annotated[str, typer.Option(help="A label to tell the key apart, e.g. \"Shop backend\".")],
    permissions: Annotated[str, typer.Option(help="Comma-separated, e.g. \"orders:read,orders:create\".")],
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Expire after N days (default: never).")] = None,
) -> None:
    """Create an API key and print it. It is shown this once: only its hash is stored."""
    from stateset_gateway.auth.api_keys import create_api_key
    from stateset_gateway.db.types import utcnow

    wanted = _permissions_or_exit(permissions)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    issued = _with_db(_settings(), lambda db: create_api_key(db, name=name, permissions=wanted,
                                                             expires_at=expires_at))
    typer.echo(f"Created API key {issued.record.name!r} (id {issued.record.id}) with {', '.join(wanted)}"
               + (f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "") + ".")
    typer.echo("Store it now; it will not be shown again. Send it as the X-API-Key header:")
    typer.echo(issued.key)


@api_keys_app.command("list")
def api_keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List keys (newest first): id, name, prefix, status, permissions, last use. Never the keys."""
    from stateset_gateway.auth.api_keys import list_api_keys
    from stateset_gateway.db.types import utcnow

    records, total = _with_db(_settings(), lambda db: list_api_keys(db, limit=1000, include_revoked=all_keys))
    if not records:
        typer.echo("No API keys." if all_keys else "No active API keys (--all shows revoked ones).")
        return
    now = utcnow()
    for r in records:
        status = ("revoked" if r.revoked_at else "expired" if r.expires_at and r.expires_at <= now else "active")
        last = f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never"
        typer.echo(f"{r.id}  {r.prefix}...  {status:<7}  {r.name}  [{', '.join(r.permissions)}]  last used: {last}")
    if total > len(records):
        typer.echo(f"... and {total - len(records)} more")


@api_keys_app.command("revoke")
def api_keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id, from `list`.")]) -> None:
    """Revoke a key now; requests with it answer 401 INVALID_API_KEY from then on."""
    from stateset_gateway.auth.api_keys import revoke_api_key

    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        typer.echo(f"Error: {key_id!r} is not a key id (a UUID, as `auth api-keys list` shows)", err=True)
        raise typer.Exit(2) from None
    record = _with_db(_settings(), lambda db: revoke_api_key(db, parsed))
    typer.echo(f"Revoked API key {record.name!r} ({record.prefix}...).")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The user's email.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="Prompted for when not given (keeps it out of shell history).")],
    role: Annotated[str, typer.Option(help="admin, manager, user or readonly.")] = "user",
) -> None:
    """Create a user with a role (registration over the API always gives the role user)."""
    from stateset_gateway.auth.users import register

    user = _with_db(_settings(), lambda db: register(db, email, password, role=role))
    typer.echo(f"Created user {user.email} (id {user.id}) with role {user.role}.")


@users_app.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    role: Annotated[str, typer.Argument(help="admin, manager, user or readonly.")],
) -> None:
    """Change a user's role; it applies to their next request, even with tokens already issued."""
    from stateset_gateway.auth.users import set_role

    user = _with_db(_settings(), lambda db: set_role(db, email, role))
    typer.echo(f"{user.email} now has role {user.role}.")


@app.command()
def seed(
    customers: Annotated[int, typer.Option(min=1, help="Customers to create.")] = 200,
    products: Annotated[int, typer.Option(min=1, help="Products to create.")] = 50,
    orders: Annotated[int, typer.Option(min=0, help="Orders to create, in every status.")] = 1000,
    rng_seed: Annotated[int, typer.Option("--seed", help="Random seed, for repeatable data.")] = 7,
) -> None:
    """Write realistic demo data in bulk (migrating the schema first when it is behind)."""
    from stateset_gateway.db import demo, migrate

    settings = _settings()
    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=False) as bar:
        totals = {"customers": customers, "products": products, "orders": orders}
        tasks = {name: bar.add_task(name, total=total) for name, total in totals.items()}

        def progress(label: str, n: int) -> None:
            if label == "items":
                return
            bar.advance(tasks[label], n)

        async def work(db: Any) -> Any:
            await migrate.upgrade(db.write_engine)
            return await demo.seed(db, demo.SeedSize(customers, products, orders), rng_seed=rng_seed,
                                   progress=progress)

        report = _migrating(settings, work)
    typer.echo(
        f"Seeded {report.customers} customers, {report.products} products in {report.locations} locations, "
        f"{report.orders} orders with {report.items} items in {time.perf_counter() - started:.1f}s."
    )


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="On an empty database, add demo data first.")] = False,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Run the gateway with uvicorn on APP__HOST:APP__PORT (default 127.0.0.1:8080)."""
    run_server("stateset_gateway.app:create_served_app", demo=demo, reload=reload)


@webhooks_app.command("worker")
def webhooks_worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
    metrics_port: Annotated[int | None, typer.Option(min=1, max=65535,
                                                     help="Serve Prometheus metrics on this port.")] = None,
) -> None:
    """Run the webhook dispatcher as its own process, until SIGINT or SIGTERM. `serve` runs one too
    unless webhooks.dispatch_in_server is false; several may share a PostgreSQL database."""
    import signal

    from prometheus_client import CollectorRegistry, start_http_server

    from stateset_gateway.webhooks.dispatcher import Dispatcher

    settings = _settings()
    registry = CollectorRegistry()
    if metrics_port is not None:
        start_http_server(metrics_port, addr=settings.host, registry=registry)

    async def work(db: Any) -> None:
        dispatcher = Dispatcher(db, registry=registry)
        if once:
            await dispatcher.drain()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        typer.echo(f"Webhook dispatcher {dispatcher.name} running on the {settings.database_kind} database "
                   "(Ctrl+C stops it).")
        await dispatcher.run(stop)

    _with_db(settings, work)


def run_server(app_factory: str, *, demo: bool = False, reload: bool = False) -> None:
    """What `serve` does: prepare the database (stateset_gateway.startup), then serve the application
    `app_factory` builds ("module:function", called in each worker) under uvicorn. The benchmark
    serves its instrumented gateway through this too, so it measures the server users run."""
    from stateset_gateway import startup

    settings = _settings()
    _check_address(settings.host, settings.port)
    for line in _with_db(settings, lambda db: startup.prepare(db, settings, demo=demo)):
        typer.echo(line)
    typer.echo(f"GraphiQL:  http://{settings.host}:{settings.port}/graphql")
    typer.echo(f"REST docs: http://{settings.host}:{settings.port}/docs")
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=None if reload else settings.server.workers,
        reload=reload,
        log_config=None,
        access_log=False,
    )


def _check_address(host: str, port: int) -> None:
    """Bind HOST:PORT once, as uvicorn will, before anything is migrated or printed: a port in use
    would otherwise show the whole start-up banner and fail only when uvicorn binds, inside a log line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # uvicorn's choice, so the same test
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = (f"Address already in use: another process listens on {host}:{port}. Set APP__PORT to "
                          f"a free port (e.g. APP__PORT={port + 1 if port < 65535 else 8081}), "
                          f"or stop that process (`lsof -i :{port}` finds it).")
            elif exc.errno == errno.EACCES:
                reason = (f"Permission denied listening on {host}:{port}: ports below 1024 need privileges. "
                          "Set APP__PORT to 1024 or above.")
            else:
                reason = (f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Check APP__HOST (an address "
                          "of this machine, 0.0.0.0 for all) and APP__PORT.")
            typer.echo(f"Error: {reason}", err=True)
            raise typer.Exit(1) from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
