"""A tiny GraphQL client for tests: POST a document, get the JSON body back."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers={**self.headers, **headers}
        )

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation expected to succeed; returns `data`."""
        body = (await self.post(query, variables)).json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an operation expected to fail with one error; returns that error."""
        body = (await self.post(query, variables)).json()
        assert body.get("errors"), body
        return body["errors"][0]
