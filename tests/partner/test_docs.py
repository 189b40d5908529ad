"""The API reference page: served by the gateway with every asset local (no CDN)."""

from __future__ import annotations

import re
from typing import Any

from gateway.docs import CONTENT_SECURITY_POLICY, VENDOR_ASSETS

# Every URL the page or its initializer names: src/href attributes and quoted absolute paths.
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def _references(text: str) -> list[str]:
    return [a or b for a, b in _REFERENCE.findall(text)]


async def test_the_page_and_every_asset_it_names_are_served_locally(partner_gateway: Any) -> None:
    page = await partner_gateway.get("/docs")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assets = _references(html)
    assert assets, "the page names no asset"
    initializer = next(a for a in assets if a.endswith("docs.js"))
    init_response = await partner_gateway.get(initializer)
    assert init_response.status == 200
    assert init_response.content_type == "text/javascript"
    named = assets + _references(await init_response.text())
    assert "/openapi.json" in named
    for reference in named:
        # Local: a path on this server, never a scheme or a protocol-relative host.
        assert reference.startswith("/") and not reference.startswith("//"), reference
        response = await partner_gateway.get(reference)
        assert response.status == 200, reference
        assert len(await response.read()) > 0


async def test_the_page_forbids_other_origins(partner_gateway: Any) -> None:
    page = await partner_gateway.get("/docs")
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY


async def test_the_swagger_ui_assets_have_their_types(partner_gateway: Any) -> None:
    for name, content_type in VENDOR_ASSETS.items():
        response = await partner_gateway.get(f"/docs/assets/{name}")
        assert response.status == 200
        assert response.content_type == content_type
    bundle = await (await partner_gateway.get("/docs/assets/swagger-ui-bundle.js")).text()
    assert "SwaggerUIBundle" in bundle


async def test_only_the_pages_assets_are_served(partner_gateway: Any) -> None:
    # The vendor directory also holds an index.html that loads a public demo document.
    for name in ("index.html", "swagger-initializer.js", "../openapi.py", "swagger-ui.js.map"):
        response = await partner_gateway.get(f"/docs/assets/{name}")
        assert response.status == 404, name
