"""The API reference page at /docs: Swagger UI rendering /openapi.json, served by the gateway.

Every asset comes from this process (the swagger-ui-bundle-v2 wheel, pinned in pyproject),
never from a CDN: partners' networks and our CSP may block third-party hosts, and a page
that depends on one breaks when it changes. Only the files the page loads are served (not
the whole vendor directory, whose index.html points at a public demo document).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from gateway.openapi import OPENAPI_PATH

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"

# The Swagger UI files the page loads, and their content types.
VENDOR_ASSETS: Mapping[str, str] = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Meetings API reference</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" sizes="32x32" href="{ASSETS_PATH}/favicon-32x32.png">
  <link rel="icon" type="image/png" sizes="16x16" href="{ASSETS_PATH}/favicon-16x16.png">
</head>
<body>
  <noscript>The API reference needs JavaScript; the document itself is at
    <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS_PATH}/docs.js"></script>
</body>
</html>
"""

# A file rather than an inline script, so the page works under a CSP without 'unsafe-inline'.
INITIALIZER = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_PATH}",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default sends the document to validator.swagger.io: no third-party calls.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  }});
}});
"""

# Swagger UI sets inline styles and shows inline SVG/data images; everything else is ours.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# Assets change only with the pinned package; browsers may keep them for a day.
_ASSET_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@cache
def vendor_asset(name: str) -> bytes:
    """One Swagger UI file, read once (the page's assets total about 2 MB)."""
    return (Path(str(swagger_ui_path)) / name).read_bytes()


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html", charset="utf-8", headers=_PAGE_HEADERS)


async def docs_initializer(request: web.Request) -> web.Response:
    return web.Response(
        text=INITIALIZER, content_type="text/javascript", charset="utf-8", headers=_ASSET_HEADERS
    )


async def docs_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    content_type = VENDOR_ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound()
    return web.Response(body=vendor_asset(name), content_type=content_type, headers=_ASSET_HEADERS)


def add_docs_routes(app: web.Application) -> None:
    """Serve the reference page at GET /docs and its assets under /docs/assets/."""
    app.router.add_get(DOCS_PATH, docs_page)
    app.router.add_get(f"{ASSETS_PATH}/docs.js", docs_initializer)
    app.router.add_get(ASSETS_PATH + "/{name}", docs_asset)
