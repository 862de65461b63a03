"""GraphiQL on /graphql in a real browser, as a new user meets it after `make run`: it renders from
the gateway's own files (no other host, no failed request), opens on the README's first query with
the development key in the headers editor, and running it shows the demo data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.served import Served

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_first_query() -> str:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)[0]


async def _editor_text(page: Any, selector: str) -> str:
    return await page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", f"{selector} .CodeMirror")


async def test_graphiql_renders_offline_and_runs_the_readme_query_with_the_dev_key(page: Any,
                                                                                 gateway: Served) -> None:
    await page.goto(f"{gateway.url}/graphql", wait_until="networkidle")
    await page.wait_for_selector(".graphiql-execute-button")

    assert await _editor_text(page, ".graphiql-query-editor") == readme_first_query()
    headers = json.loads(await _editor_text(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)"))
    assert headers == {"X-API-Key": gateway.key}

    await page.click(".graphiql-execute-button")
    await page.wait_for_function(
        "() => (document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() || '').includes('data')")
    result = json.loads(await _editor_text(page, ".result-window"))
    assert "errors" not in result, result
    orders = result["data"]["orders"]
    assert orders["totalCount"] > 0 and len(orders["nodes"]) == 5
    assert all(node["status"] == "DELIVERED" and node["customer"]["email"] for node in orders["nodes"])

    traffic = page.traffic
    assert traffic.failed == [] and traffic.errors == []
    assert traffic.elsewhere(gateway.url) == []
    assert f"{gateway.url}/static/graphiql@3.8.3/graphiql.min.js" in traffic.requested


async def test_graphiql_explorer_lists_the_root_fields(page: Any, gateway: Served) -> None:
    await page.goto(f"{gateway.url}/graphql", wait_until="networkidle")
    await page.click("button[aria-label='Show GraphiQL Explorer']")
    explorer = page.locator(".graphiql-explorer-root")
    await explorer.get_by_text("orders", exact=True).first.wait_for()
    assert await explorer.get_by_text("customers", exact=True).count() >= 1
    assert page.traffic.failed == [] and page.traffic.errors == []
