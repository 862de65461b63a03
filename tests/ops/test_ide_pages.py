"""The IDE pages and the files they load, without a browser (tests/browser/ drives a real one): every
file is served by the gateway itself, is the one the manifest's integrity names, comes from the
pinned npm lock, and the development key reaches the page only in development, for a local request."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from stateset_gateway.app import create_app
from stateset_gateway.config import load_settings
from stateset_gateway.ide import assets
from stateset_gateway.ide.graphiql import EXAMPLE_QUERY

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk_" + "k" * 43


@asynccontextmanager
async def page_client(tmp_path: Path, client_host: str = "127.0.0.1", **settings: object
                      ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose development key file holds KEY (as `serve` leaves it)."""
    (tmp_path / ".stateset-dev-key").write_text(KEY + "\n")
    app = create_app(load_settings(database_url=f"sqlite:///{tmp_path / 'ide.db'}", **settings))
    transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


def _sources(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


async def _graphiql(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/graphql", headers={"Accept": "text/html", **headers})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    return response.text


def _config(html: str) -> dict[str, object]:
    return json.loads(re.search(r'<script type="application/json" id="ide-config">(.*?)</script>', html, re.S)[1])


async def test_every_file_the_pages_load_is_served_here_with_its_integrity(tmp_path: Path) -> None:
    async with page_client(tmp_path) as client:
        pages = [await _graphiql(client), (await client.get("/docs")).text]
        for html in pages:
            sources = [s for s in _sources(html) if not s.startswith("data:")]
            assert sources and all(s.startswith("/static/") for s in sources), sources
            for tag in re.findall(r"<(?:script|link rel=\"stylesheet\")[^>]*(?:src|href)=\"/static/[^>]*>", html):
                url = re.search(r'(?:src|href)="([^"]+)"', tag)[1]
                served = await client.get(url)
                assert served.status_code == 200, url
                assert served.headers["cache-control"] == assets.IMMUTABLE
                digest = "sha384-" + base64.b64encode(hashlib.sha384(served.content).digest()).decode()
                assert f'integrity="{digest}"' in tag, url
        assert "https://" not in pages[0] and "https://" not in pages[1]
        missing = await client.get("/static/graphiql@3.8.3/graphiql.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
        assert (await client.get("/static/..%2F..%2Fapp.py/x")).status_code == 404


def test_the_manifest_matches_the_shipped_files_and_the_npm_lock() -> None:
    lock = json.loads((ROOT / "ide-assets" / "package-lock.json").read_text())["packages"]
    raw = json.loads((assets.STATIC_DIR / "manifest.json").read_text())
    for name, entry in raw.items():
        assert entry["version"] == lock[f"node_modules/{name}"]["version"], name
        for file, digest in entry["files"].items():
            data = (assets.STATIC_DIR / entry["folder"] / file).read_bytes()
            assert digest == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode(), file
    shipped = {p.relative_to(assets.STATIC_DIR).as_posix() for p in assets.STATIC_DIR.rglob("*") if p.is_file()}
    listed = {f"{e['folder']}/{f}" for e in raw.values() for f in e["files"]} | {"manifest.json"}
    assert shipped == listed


async def test_graphiql_opens_on_the_readme_query_with_the_dev_key_for_a_local_request(tmp_path: Path) -> None:
    readme_first = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)[0]
    assert EXAMPLE_QUERY == readme_first
    async with page_client(tmp_path) as client:
        config = _config(await _graphiql(client))
        assert config["query"] == EXAMPLE_QUERY
        assert json.loads(str(config["headers"])) == {"X-API-Key": KEY}
        assert _config(await _graphiql(client, Host="localhost:8080"))["headers"] is not None
        assert _config(await _graphiql(client, Host="[::1]:8080"))["headers"] is not None
        # a name that only resolves to loopback (DNS rebinding) gets the page without the key
        rebound = await _graphiql(client, Host="attacker.example:8080")
        assert _config(rebound)["headers"] is None and KEY not in rebound


@pytest.mark.parametrize("client_host", ["192.0.2.10", "10.1.2.3"])
async def test_graphiql_never_carries_the_key_to_a_remote_client(tmp_path: Path, client_host: str) -> None:
    async with page_client(tmp_path, client_host=client_host) as client:
        html = await _graphiql(client)
        assert KEY not in html and _config(html)["headers"] is None


async def test_graphiql_never_carries_a_key_in_production(tmp_path: Path) -> None:
    async with page_client(tmp_path, env="production", auth={"jwt_secret": "p" * 40}) as client:
        html = await _graphiql(client)
        assert KEY not in html and _config(html) == {"query": EXAMPLE_QUERY, "headers": None}
