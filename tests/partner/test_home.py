"""The gateway's root URL: a page of links for a browser, the same links as JSON for a client."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.home import prefers_html

# What Chromium and Firefox send for a page they navigate to.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)
# Where a newcomer must be able to go from the root.
EXPECTED_PATHS = {"/docs", "/export", "/openapi.json", "/healthz", "/readyz"}
_HREF = re.compile(r'href="([^"]+)"')


async def _answers_200(client: Any, path: str) -> None:
    response = await client.get(path)
    assert response.status == 200, f"{path}: {response.status}"


async def test_a_browser_gets_a_page_linking_every_entry_point(partner_gateway: Any) -> None:
    response = await partner_gateway.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Vary"] == "Accept"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    links = set(_HREF.findall(await response.text()))
    assert links == EXPECTED_PATHS
    for path in links:
        await _answers_200(partner_gateway, path)


@pytest.mark.parametrize(
    "accept",
    ["application/json", "*/*", None, "application/json, text/html;q=0.5", "image/png"],
    ids=["json", "any (curl)", "no Accept", "json preferred", "neither"],
)
async def test_an_api_client_gets_the_links_as_json(
    partner_gateway: Any, accept: str | None
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = await partner_gateway.get("/", headers=headers, skip_auto_headers=["Accept"])
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["name"] == "Meetings API"
    hrefs = {link["href"] for link in body["links"].values()}
    assert hrefs == EXPECTED_PATHS
    assert all(link["title"] and link["description"] for link in body["links"].values())
    for path in hrefs:
        await _answers_200(partner_gateway, path)


async def test_head_of_the_root_answers(partner_gateway: Any) -> None:
    response = await partner_gateway.head("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status == 200
    assert response.content_type == "text/html"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("text/*", True),
        ("application/json;q=0.1, text/html", True),
        ("text/html;q=0.5, application/json", False),
        ("text/html, application/json", False),  # a tie: JSON
        ("*/*", False),
        ("text/html;q=0", False),
        ("", False),
        (None, False),
        ("garbage", False),
    ],
)
def test_html_only_when_accept_ranks_it_above_json(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html
