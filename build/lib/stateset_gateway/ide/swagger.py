"""Swagger UI on /docs, from the shipped swagger-ui-dist files (FastAPI's own page loads them from a
CDN). The validator badge is off: it would send the OpenAPI document's address to another host."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stateset_gateway.ide.assets import asset

DOCS_PATH = "/docs"

router = APIRouter(include_in_schema=False)


@cache
def _page(openapi_url: str) -> str:
    page = (Path(__file__).parent / "templates" / "swagger.html").read_text(encoding="utf-8")
    config = orjson.dumps({"openapi_url": openapi_url}).decode().replace("<", "\\u003c")
    return (page.replace("{{favicon}}", asset("swagger-ui-dist", "favicon-32x32.png").url)
            .replace("{{stylesheets}}", asset("swagger-ui-dist", "swagger-ui.css").stylesheet())
            .replace("{{scripts}}", asset("swagger-ui-dist", "swagger-ui-bundle.js").script())
            .replace("{{config}}", config))


@router.get(DOCS_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(_page(request.app.openapi_url))
