"""The export tool at GET /export: a form over the Export Meetings API, served by the gateway.

Plain HTML (gateway/templates/export.html, a string.Template filled in here with the column
facts the contract writes and the presets the gateway knows, so the page cannot drift from
the API) with one script and one style sheet from gateway/static/export/, served from this
process: no CDN, no build step, and a Content-Security-Policy that allows no inline script or
style and no other origin. The page talks to the same origin only:
POST /api/v2/authenticate for a token, then the export URL with that bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from html import escape
from importlib import resources
from string import Template
from types import MappingProxyType

from aiohttp import web

from gateway.legacy.enum_options import EXPORT_COLUMNS, REPORT_TYPES, REPORTING_DAYS

EXPORT_PAGE_PATH = "/export"
ASSETS_PATH = "/export/assets"

# The files the page loads, and their content types.
ASSETS: Mapping[str, str] = MappingProxyType(
    {
        "export.js": "text/javascript",
        "export.css": "text/css",
        "favicon.svg": "image/svg+xml",
    }
)

# The presets as the page offers them. `all` is left out: it is `all_past` by another name.
REPORTING_DAY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "all_past": "Past and completed meetings (the default)",
        "all_upcoming": "Upcoming meetings",
        "today": "Starting today",
        "current_month": "Starting this month",
        "last_week": "Last week (Monday to Sunday)",
        "last_month": "Last month",
        "custom": "Custom range",
    }
)
REPORT_TYPE_LABELS: Mapping[str, str] = MappingProxyType(
    {"all_meetings": "All meetings", "eap_meetings": "EAP meetings only"}
)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_ASSET_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _column_checkboxes() -> str:
    """A checkbox per export column: its key is the value sent, and its JSON key (a data
    attribute) is where the preview finds the column in a returned row."""
    items = []
    for column in EXPORT_COLUMNS:
        element_id = f"column-{column.key.replace('_', '-')}"
        items.append(
            f'          <li><input type="checkbox" id="{element_id}" name="column" '
            f'value="{escape(column.key)}" data-json-key="{escape(column.json_key)}" checked> '
            f'<label for="{element_id}">{escape(column.label)}</label></li>'
        )
    return "\n".join(items)


def _options(labels: Mapping[str, str], accepted: Mapping[str, int], selected: str) -> str:
    unknown = set(labels) - set(accepted)
    if unknown:
        raise ValueError(f"the page offers values the API does not accept: {sorted(unknown)}")
    return "\n".join(
        f'            <option value="{escape(value)}"{" selected" if value == selected else ""}>'
        f"{escape(label)}</option>"
        for value, label in labels.items()
    )


def _report_types() -> str:
    unknown = set(REPORT_TYPE_LABELS) - set(REPORT_TYPES)
    if unknown:
        raise ValueError(f"the page offers report types the API does not accept: {unknown}")
    return "\n".join(
        f'          <div class="choice"><input type="radio" name="report_type" '
        f'id="report-type-{value.replace("_", "-")}" value="{escape(value)}"'
        f"{' checked' if value == 'all_meetings' else ''}> "
        f'<label for="report-type-{value.replace("_", "-")}">{escape(label)}</label></div>'
        for value, label in REPORT_TYPE_LABELS.items()
    )


def _template() -> Template:
    return Template(_package_file("templates", "export.html").read_text(encoding="utf-8"))


@cache
def page_html() -> str:
    """The page, built once: the columns, presets and report types come from the gateway."""
    return _template().substitute(
        assets=ASSETS_PATH,
        column_checkboxes=_column_checkboxes(),
        reporting_day_options=_options(REPORTING_DAY_LABELS, REPORTING_DAYS, "all_past"),
        report_type_choices=_report_types(),
    )


def _package_file(*parts: str) -> resources.abc.Traversable:
    return resources.files("gateway").joinpath(*parts)


@cache
def asset(name: str) -> bytes:
    """One of the page's files, read once."""
    return _package_file("static", "export", name).read_bytes()


async def export_page(request: web.Request) -> web.Response:
    return web.Response(
        text=page_html(), content_type="text/html", charset="utf-8", headers=_PAGE_HEADERS
    )


async def export_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    content_type = ASSETS.get(name)
    if content_type is None:
        raise web.HTTPNotFound()
    charset = None if content_type.startswith("image/") else "utf-8"
    return web.Response(
        body=asset(name), content_type=content_type, charset=charset, headers=_ASSET_HEADERS
    )


def add_export_page_routes(app: web.Application) -> None:
    """Serve the export tool at GET /export and its files under /export/assets/."""
    app.router.add_get(EXPORT_PAGE_PATH, export_page)
    app.router.add_get(ASSETS_PATH + "/{name}", export_asset)
