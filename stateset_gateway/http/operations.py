"""Operations endpoints, no auth and never rate limited: liveness, readiness, version, Prometheus metrics."""

from __future__ import annotations

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
from stateset_gateway.rest_compat.errors import error_response

router = APIRouter(tags=["operations"])


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


@router.get("/health/readiness", summary="Readiness: the database (and Redis, when configured) answer")
async def readiness(request: Request) -> Response:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        await state.db.ping()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    if state.settings.redis_url:
        try:
            await state.redis.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
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
