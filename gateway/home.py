"""The gateway's home page at GET /: where someone who opens the service's address lands.

A browser gets a short HTML page that links the API reference, the export tool, the OpenAPI
document and the health URLs; an API client gets the same links as JSON. Accept decides
(quality first, then an exact type over a wildcard); on a tie, `*/*` or no Accept at all, the
answer is JSON, which is what curl and HTTP libraries send for and read best. Never a 406.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from types import MappingProxyType

import orjson
from aiohttp import web

from gateway.docs import DOCS_PATH
from gateway.export_page import EXPORT_PAGE_PATH
from gateway.health import HEALTHZ, READYZ
from gateway.legacy.export_formats import media_ranges
from gateway.openapi import OPENAPI_PATH

HOME_PATH = "/"
HTML = "text/html"
JSON = "application/json"

# name -> (path, what it is, what a person finds there); the JSON form keys the links by name.
LINKS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "docs": (DOCS_PATH, "API reference", "every REST operation, tried from the browser"),
        "export": (EXPORT_PAGE_PATH, "Export tool", "meetings downloaded as CSV or JSON"),
        "openapi": (OPENAPI_PATH, "OpenAPI document", "the REST API in OpenAPI 3.1"),
        "healthz": (HEALTHZ, "Liveness", "the gateway answers"),
        "readyz": (READYZ, "Readiness", "a gRPC backend is serving"),
    }
)

# Nothing to run and nothing from elsewhere: the page is text and links.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    # The body depends on Accept, so a cache must not hand the HTML to an API client.
    "Vary": "Accept",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


def _page() -> str:
    items = "\n".join(
        f'    <li><a href="{escape(path)}">{escape(title)}</a> <code>{escape(path)}</code>: '
        f"{escape(description)}</li>"
        for path, title, description in LINKS.values()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Meetings API</title>
</head>
<body>
  <h1>Meetings API</h1>
  <p>The REST API is under <code>/api/v2</code>; the gRPC API is on its own port.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""


PAGE = _page()
BODY = orjson.dumps(
    {
        "name": "Meetings API",
        "links": {
            name: {"href": path, "title": title, "description": description}
            for name, (path, title, description) in LINKS.items()
        },
    }
)


def prefers_html(accept: str | None) -> bool:
    """Whether Accept ranks text/html strictly above application/json (RFC 9110 12.5.1: each
    type takes the quality of the most specific range naming it)."""
    if accept is None or not accept.strip():
        return False
    ranges = list(media_ranges(accept))

    def rank(media_type: str) -> tuple[float, int]:
        matches = [(r.specificity(media_type), r) for r in ranges]
        named = [(s, r) for s, r in matches if s >= 0]
        if not named:
            return (0.0, -1)
        specificity, chosen = max(named, key=lambda m: (m[0], -m[1].position))
        return (chosen.quality, specificity) if chosen.quality > 0 else (0.0, -1)

    html, json = rank(HTML), rank(JSON)
    return html[0] > 0 and html > json


async def home(request: web.Request) -> web.Response:
    if prefers_html(request.headers.get("Accept")):
        return web.Response(
            text=PAGE,
            content_type=HTML,
            charset="utf-8",
            headers={**_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )
    return web.Response(body=BODY, content_type=JSON, headers=_HEADERS)


def add_home_route(app: web.Application) -> None:
    """Serve the home page at GET / (and HEAD /)."""
    app.router.add_get(HOME_PATH, home)
