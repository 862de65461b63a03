"""A real browser on the gateway's pages: Debian's chromium, headless, driven by Playwright's client
through the binary already installed (never a browser Playwright downloads).

In CI (CI=true, as .ci/run sets, which also installs chromium) a missing or broken chromium fails
every browser test; elsewhere it skips them, saying how to install it. The browser resolves no host
but loopback (`--host-resolver-rules`), so a page that reaches for a CDN fails here as it would on a
machine without internet. Each test leaves screenshots in .cache/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tests.support.served import Served, served_gateway

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
SCREENSHOTS = Path(__file__).parents[2] / ".cache" / "screenshots"


def chromium_path() -> str | None:
    configured = os.environ.get("STATESET_CHROMIUM")
    if configured:
        return configured
    return next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)


def _unavailable(reason: str) -> None:
    if services.REQUIRED:
        pytest.fail(f"{reason} (CI requires the browser tests: `apt-get install chromium`)", pytrace=False)
    pytest.skip(f"{reason}; install it with `apt-get install chromium` (required in CI)")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    executable = chromium_path()
    if executable is None:
        _unavailable("chromium is not installed")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("playwright (the dev extra) is not installed")
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=executable, args=FLAGS, timeout=60_000)
        except Exception as exc:  # playwright's Error: the binary would not start
            _unavailable(f"chromium at {executable} did not start: {exc}")
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `make run` for every browser test: the demo data and its development key."""
    with served_gateway(tmp_path_factory.mktemp("served")) as served:
        yield served


@dataclass
class Traffic:
    """What the page asked for: every URL, those that failed (with why), and script errors."""

    requested: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def elsewhere(self, origin: str) -> list[str]:
        return [url for url in self.requested if not url.startswith(origin + "/")]


@pytest.fixture
async def page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    opened = await context.new_page()
    opened.set_default_timeout(20_000)
    traffic = Traffic()
    opened.on("request", lambda r: traffic.requested.append(r.url))
    opened.on("requestfailed", lambda r: traffic.failed.append(f"{r.url}: {r.failure}"))
    opened.on("response", lambda r: r.status >= 400 and traffic.failed.append(f"{r.url}: {r.status}"))
    opened.on("pageerror", lambda e: traffic.errors.append(str(e)))
    opened.on("console", lambda m: m.type == "error" and traffic.errors.append(m.text))
    opened.traffic = traffic
    try:
        yield opened
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            await opened.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"))
        finally:
            await context.close()
