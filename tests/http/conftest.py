"""The pipeline's tests run the real app (the `app` and `client` fixtures) with settings of their own:
`@pytest.mark.settings(rate_limit="2/minute")` passes its keywords to `load_settings`."""

from __future__ import annotations

import pytest

from stateset_gateway.config import Settings, load_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**overrides): settings the test's app is made with")


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    marker = request.node.get_closest_marker("settings")
    return load_settings(database_url=database_url, **(marker.kwargs if marker else {}))
