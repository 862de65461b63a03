"""The GraphiQL page a browser gets on GET /graphql: the explorer plugin, an example query, and in
development the dev key already in the headers editor.

The key is only written into the page for a request that is local at both ends: the development
environment, a loopback client address, and a loopback `Host` (so a page on another site that
resolves its own name to 127.0.0.1 cannot read the key out of this one). The page is never cached.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse

from stateset_gateway.auth import dev_key
from stateset_gateway.config import Settings
from stateset_gateway.ide.assets import asset

# The README's first query: what a new user runs first, against the demo data.
EXAMPLE_QUERY = """\
# The newest orders with everything a detail page needs: a few SQL statements whatever `first` is
# (one per level; each order's customer is read with the orders, each item's product with the items).
{
  orders(first: 5, filter: {status: DELIVERED}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      orderNumber status total createdAt
      customer { email fullName orderCount }
      items { quantity unitPrice product { sku name totalAvailable } }
      shipments { carrier trackingNumber status }
    }
  }
}
"""

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _request_host(request: Request) -> str:
    """The `Host` header without its port (`[::1]:8080` -> `::1`)."""
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def development_headers(request: Request, settings: Settings) -> str | None:
    """`{"X-API-Key": "sk_..."}` for the headers editor, or None when the page must not carry it."""
    if not settings.is_development:
        return None
    client = request.client.host if request.client else None
    if not (_is_loopback(client) and _is_loopback(_request_host(request))):
        return None
    try:
        key = dev_key.key_path(settings).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return orjson.dumps({"X-API-Key": key}, option=orjson.OPT_INDENT_2).decode() if key else None


@cache
def _template() -> tuple[str, str]:
    page = (Path(__file__).parent / "templates" / "graphiql.html").read_text(encoding="utf-8")
    stylesheets = "\n  ".join(a.stylesheet() for a in (asset("graphiql", "graphiql.min.css"),
                                                       asset("@graphiql/plugin-explorer", "style.css")))
    scripts = "\n  ".join(a.script() for a in (asset("react", "react.production.min.js"),
                                               asset("react-dom", "react-dom.production.min.js"),
                                               asset("graphiql", "graphiql.min.js"),
                                               asset("@graphiql/plugin-explorer", "index.umd.js")))
    return page.replace("{{stylesheets}}", stylesheets).replace("{{scripts}}", scripts), "{{config}}"


def _json_in_script(value: object) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return orjson.dumps(value).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_page(request: Request, settings: Settings) -> HTMLResponse:
    page, marker = _template()
    config = {"query": EXAMPLE_QUERY, "headers": development_headers(request, settings)}
    return HTMLResponse(page.replace(marker, _json_in_script(config)),
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
