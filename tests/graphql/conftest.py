from __future__ import annotations

import httpx
import pytest

from tests.support.graphql_client import GraphQLClient


@pytest.fixture
def client(differential_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Every GraphQL query a test here sends is checked against graphql-core (tests/conftest.py)."""
    return differential_client


@pytest.fixture
async def gql(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> GraphQLClient:
    """GraphQL as an admin API key: everything is allowed."""
    return GraphQLClient(client, admin_headers)
