"""The export tool at GET /export: a form over the Export Meetings API, served by the gateway.

Plain HTML (built here from the column labels and presets the gateway knows, so the page
cannot drift from the API) with one script and one style sheet from gateway/static/export/,
served from this process: no CDN, no build step, and a Content-Security-Policy that allows
no inline script or style and no other origin. The page talks to the same origin only:
POST /api/v2/authenticate for a token, then the export URL with that bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from html import escape
from importlib import resources
from types import MappingProxyType

from aiohttp import web

from gateway.legacy.export import REPORT_TYPES, REPORTING_DAYS
from gateway.legacy.export_formats import COLUMN_LABELS

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
    items = []
    for key, label in COLUMN_LABELS.items():
        element_id = f"column-{key.replace('_', '-')}"
        items.append(
            f'          <li><input type="checkbox" id="{element_id}" name="column" '
            f'value="{escape(key)}" checked> <label for="{element_id}">{escape(label)}</label>'
            "</li>"
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


@cache
def page_html() -> str:
    """The page, built once: the columns, presets and report types come from the gateway."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Export meetings</title>
  <link rel="icon" href="{ASSETS_PATH}/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{ASSETS_PATH}/export.css">
  <script src="{ASSETS_PATH}/export.js" defer></script>
</head>
<body>
  <header>
    <h1>Export meetings</h1>
    <p>Choose columns and a date range, preview the first 20 meetings, then download them as
      CSV (for spreadsheets) or JSON. This page calls the
      <a href="/docs">Export Meetings API</a> with your token; nothing is stored.</p>
  </header>
  <main>
    <noscript><p class="notice">This page needs JavaScript.</p></noscript>
    <form id="export-form" novalidate>
      <fieldset>
        <legend>Organization and access</legend>
        <div class="field">
          <label for="organization-id">Organization id</label>
          <input id="organization-id" name="organization_id" inputmode="numeric"
            pattern="[0-9]+" autocomplete="off" required aria-describedby="organization-id-hint">
          <p id="organization-id-hint" class="hint">The number your access key belongs to.</p>
        </div>
        <div class="field">
          <label for="access-key">Access key</label>
          <div class="inline">
            <input id="access-key" type="password" autocomplete="off" spellcheck="false"
              aria-describedby="access-key-hint">
            <button type="button" id="get-token">Get token</button>
          </div>
          <p id="access-key-hint" class="hint">Your 24-character key. It is exchanged for a
            token (valid 24 hours) and then cleared from the form.</p>
        </div>
        <div class="field">
          <label for="token">Token</label>
          <input id="token" type="password" autocomplete="off" spellcheck="false"
            aria-describedby="token-hint">
          <p id="token-hint" class="hint">Filled in by &ldquo;Get token&rdquo;, or paste one
            from <code>POST /api/v2/authenticate</code>. Kept in this page only.</p>
        </div>
      </fieldset>

      <fieldset id="columns">
        <legend>Columns</legend>
        <p id="columns-hint" class="hint">Each ticked column becomes a column of the file, in
          this order.</p>
        <div class="inline">
          <button type="button" id="select-all">Tick all</button>
          <button type="button" id="select-none">Untick all</button>
        </div>
        <ul class="checkboxes" aria-describedby="columns-hint">
{_column_checkboxes()}
        </ul>
      </fieldset>

      <fieldset>
        <legend>Meetings</legend>
        <div class="field">
          <label for="reporting-days">Date range</label>
          <select id="reporting-days" name="reporting_days" aria-describedby="range-hint">
{_options(REPORTING_DAY_LABELS, REPORTING_DAYS, "all_past")}
          </select>
        </div>
        <fieldset class="nested">
          <legend>From and to (your organization's time zone)</legend>
          <p id="range-hint" class="hint">Both are required for &ldquo;Custom range&rdquo;
            (both ends included); with another range, giving both narrows it.</p>
          <div class="inline">
            <div class="field">
              <label for="start-time">From</label>
              <input id="start-time" name="start_time" type="datetime-local"
                aria-describedby="range-hint">
            </div>
            <div class="field">
              <label for="end-time">To</label>
              <input id="end-time" name="end_time" type="datetime-local"
                aria-describedby="range-hint">
            </div>
          </div>
        </fieldset>
        <fieldset class="nested">
          <legend>Report type</legend>
{_report_types()}
        </fieldset>
      </fieldset>

      <div class="actions">
        <button type="submit" id="preview">Preview first 20</button>
        <button type="button" id="download-csv">Download CSV</button>
        <button type="button" id="download-json">Download JSON</button>
      </div>
    </form>

    <div id="status" class="status" role="status" aria-live="polite"></div>
    <div id="error" class="error" role="alert" aria-live="assertive"></div>

    <section id="preview-section" aria-labelledby="preview-heading" hidden>
      <h2 id="preview-heading">Preview</h2>
      <div class="table-wrap" role="region" aria-labelledby="preview-caption" tabindex="0">
        <table id="preview-table">
          <caption id="preview-caption"></caption>
          <thead></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
  </main>
</body>
</html>
"""


def _asset_path(name: str) -> resources.abc.Traversable:
    return resources.files("gateway").joinpath("static", "export", name)


@cache
def asset(name: str) -> bytes:
    """One of the page's files, read once."""
    return _asset_path(name).read_bytes()


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
