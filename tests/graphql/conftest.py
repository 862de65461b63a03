from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stateset_gateway.app import create_app
from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from tests.support.graphql_client import DifferentialTransport, GraphQLClient


@pytest.fixture
async def reference_app(settings: Settings, db: Database) -> AsyncIterator[Any]:
    """The same gateway on the same database, executing every operation with graphql-core."""
    graphql = settings.graphql.model_copy(update={"executor": "reference"})
    application = create_app(settings.model_copy(update={"graphql": graphql}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def differential(app: Any, reference_app: Any) -> DifferentialTransport:
    return DifferentialTransport(app, reference_app)


@pytest.fixture
async def client(differential: DifferentialTransport) -> AsyncIterator[httpx.AsyncClient]:
    """Every query a test here sends is answered by the planned executor and checked against
    graphql-core's answer to the same request (see DifferentialTransport)."""
    async with httpx.AsyncClient(transport=differential, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def gql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> GraphQLClient:
    """GraphQL as an admin API key: everything is allowed."""
    return GraphQLClient(client, admin_headers)
