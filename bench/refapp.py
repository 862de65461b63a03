"""The floor reference: a bare FastAPI JSON endpoint, served by uvicorn exactly as the gateway is.

It takes the same request the trivial GraphQL workload sends (a POST with a small JSON body) and
answers a JSON object through FastAPI's default response path: no middleware, no auth, no database.
Whatever the gateway spends above this per request is the gateway's own overhead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/graphql")
async def floor(request: Request) -> dict[str, Any]:
    await request.json()
    return {"data": {"__typename": "Query"}}
