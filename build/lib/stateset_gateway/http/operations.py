"""Operations endpoints, no auth and never rate limited: liveness, readiness, version, Prometheus metrics."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from functools import cache
from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stateset_gateway import __version__, errors
from stateset_gateway.db.migrate import MigrationError
from stateset_gateway.rest_compat.errors import error_response

router = APIRouter(tags=["operations"])

PROBE_TIMEOUT = 2.0  # seconds: as long as the database ping may take


@cache
def git_commit() -> str | None:
    """The commit the code was built from, when known: $GIT_COMMIT, else the checkout's HEAD."""
    if commit := os.environ.get("GIT_COMMIT"):
        return commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=2
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/readiness",
            summary="Readiness: the database answers with its schema up to date (and Redis, when configured)")
async def readiness(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    pending: list[str] = []
    schema_error: MigrationError | None = None
    try:
        await state.db.ping()
        pending = await asyncio.wait_for(state.schema.pending(), PROBE_TIMEOUT)
        checks["database"] = "migrations pending" if pending else "ok"
    except MigrationError as exc:
        checks["database"], schema_error = "unknown revision", exc
    except Exception:
        checks["database"] = "unreachable"
    if state.settings.redis_url:
        try:
            await state.redis.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
    if pending:
        # Every request would fail on the missing tables or columns: not ready, and say how to fix it.
        error = errors.ServiceUnavailable(
            f"Database schema is not up to date: migration(s) {', '.join(pending)} pending; "
            "run `stateset-cli migrate up`", {"checks": checks, "pending_migrations": pending})
        return error_response(error, request)
    if schema_error is not None:
        return error_response(errors.ServiceUnavailable(str(schema_error), {"checks": checks}), request)
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        error = errors.ServiceUnavailable(f"{', '.join(failed).capitalize()} unreachable", {"checks": checks})
        return error_response(error, request)
    return Response(orjson.dumps({"status": "ready", "checks": checks}), media_type="application/json")


@router.get("/health/version", summary="Version, commit, Python and database kind")
async def version(request: Request) -> dict[str, str | None]:
    return {
        "version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "database": request.app.state.db.kind,
    }


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, responses={200: {
    "description": "The Prometheus text exposition format (version 0.0.4)",
    "content": {"text/plain": {"schema": {"type": "string"}, "example": "stateset_errors_total{code=\"NOT_FOUND\"} 3.0"}}}})
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
