"""Swagger UI on /docs in a real browser: it renders from the gateway's own files, Authorize takes
the development key, and "Try it out" on GET /api/v1/orders answers 200 with the demo orders."""

from __future__ import annotations

from typing import Any

from tests.support.served import Served


async def test_swagger_authorize_and_try_it_out_on_orders(page: Any, gateway: Served) -> None:
    await page.goto(f"{gateway.url}/docs", wait_until="networkidle")
    await page.click("button.authorize")
    scheme = page.locator(".modal-ux .auth-container").filter(has_text="APIKeyHeader")
    await scheme.locator("input").fill(gateway.key)
    await scheme.locator("button.authorize").click()
    await scheme.locator("button:has-text('Logout')").wait_for()  # Swagger UI's word for "authorized"
    await scheme.locator("button.btn-done").click()

    operation = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path[data-path='/api/v1/orders']"))
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table .response .response-col_status")
    await live.wait_for()
    assert (await live.inner_text()).strip() == "200"
    body = await operation.locator(".live-responses-table .microlight").first.inner_text()
    assert '"success": true' in body and '"total_pages"' in body

    traffic = page.traffic
    assert traffic.failed == [] and traffic.errors == []
    assert traffic.elsewhere(gateway.url) == []
    assert f"{gateway.url}/api/v1/orders" in {url.split("?")[0] for url in traffic.requested}
