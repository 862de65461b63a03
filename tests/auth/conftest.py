from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def client(differential_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Every GraphQL query a test here sends is checked against graphql-core (tests/conftest.py)."""
    return differential_client
