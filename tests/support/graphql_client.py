"""A tiny GraphQL client for tests, and the transport that checks the planned executor against graphql-core.

`DifferentialTransport` sends each request to the app under test and, when it is a query, the same
request to a second app on the same database whose executor is graphql-core (`[graphql] executor =
"reference"`): data and errors must be identical. Errors are compared sorted by path (graphql-core
records concurrent fields' errors in the order they finish, the planned executor in document order)
and without their request_id, which names each request.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast


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


class DifferentialTransport(httpx.AsyncBaseTransport):
    """Answers from `app`; every query sent to /graphql is also run by `reference_app` and compared."""

    def __init__(self, app: Any, reference_app: Any) -> None:
        self.primary = httpx.ASGITransport(app=app)
        self.reference = httpx.ASGITransport(app=reference_app)
        self.compared = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Only a body already in memory can be sent twice; a streamed one goes to the app alone.
        replayable = request.url.path == "/graphql" and isinstance(request.stream, httpx.ByteStream)
        content = request.content if replayable else b""
        response = await self.primary.handle_async_request(request)
        if not replayable or not _is_query(request, content):
            return response
        body = json.loads(await response.aread())
        if not isinstance(body, dict) or "data" not in body:  # refused before execution
            return response
        twin = httpx.Request(request.method, request.url, headers=request.headers, content=content)
        reference = await self.reference.handle_async_request(twin)
        expected = json.loads(await reference.aread())
        planned = (response.status_code, comparable(body))
        graphql_core = (reference.status_code, comparable(expected))
        assert planned == graphql_core, (f"planned and reference executors differ for {content[:500]!r}:\n"
                                         f"planned   {planned}\nreference {graphql_core}")
        self.compared += 1
        return response


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A response's data and errors, errors sorted by path and without request_id."""
    errors = []
    for error in body.get("errors") or ():
        error = {**error, "extensions": {k: v for k, v in (error.get("extensions") or {}).items()
                                         if k != "request_id"}}
        errors.append(error)
    errors.sort(key=lambda e: json.dumps([e.get("path"), e["message"], e["extensions"]]))
    return {"data": body.get("data"), "errors": errors}


def _is_query(request: httpx.Request, content: bytes) -> bool:
    if request.method == "POST":
        try:
            params = json.loads(content)
        except ValueError:
            return False
    else:
        params = dict(request.url.params)
    if not isinstance(params, dict) or not isinstance(params.get("query"), str):
        return False
    try:
        operation = get_operation_ast(parse(params["query"]), params.get("operationName") or None)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is OperationType.QUERY
