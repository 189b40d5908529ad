"""The export tool at /export: served with a strict CSP and labelled controls, and used end to
end by a real browser (headless Chromium through Playwright) against `meetings serve`: a wrong
key, a token, columns by keyboard and mouse, a custom range, a preview, CSV and JSON
downloads whose rows are the API's, and the API's own error message.

Screenshots go to test-artifacts/export-page/ (gitignored), for people to look at.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import peewee
import pytest

from gateway.export_page import (
    ASSETS,
    ASSETS_PATH,
    CONTENT_SECURITY_POLICY,
    EXPORT_PAGE_PATH,
    REPORT_TYPE_LABELS,
    REPORTING_DAY_LABELS,
)
from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.legacy.export import REPORT_TYPES, REPORTING_DAYS
from store.loader import load_fixture
from tests.export.conftest import document, meeting, organization, user
from tests.processes import Served, serving

# Each column's key and its label (the export page's checkboxes, the CSV header), in order.
COLUMN_LABELS = {column.key: column.label for column in EXPORT_COLUMNS}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "export-page"
SECRET = {"MEETINGS_JWT_SECRET": "export-page-test-secret-0123456789abcdef"}
ORG_ID = 5
ACCESS_KEY = "ExportPageTestsKey000001"
FORMULA_STARTS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"

# The page's example range: 11/01/2025 08:00 AM to 11/30/2025 05:00 PM, New York time.
IN_RANGE = [
    meeting(
        301,
        "2025-11-03T15:00:00+00:00",
        name='Hello, "world"',
        meeting_description="line one\nline two",
        group_leader_id=4501,
        price="12.50",
    ),
    meeting(302, "2025-11-04T15:00:00+00:00", name="=1+1", eap=True, price=10),
    meeting(303, "2025-11-05T15:00:00+00:00", name="Caf\u00e9 \u2615", topic="-2 focus"),
    *(meeting(310 + n, f"2025-11-{6 + n // 2:02d}T{14 + n % 2}:30:00+00:00") for n in range(30)),
]
OUT_OF_RANGE = [
    meeting(400, "2025-10-31T15:00:00+00:00", name="October"),
    meeting(401, "2025-12-01T15:00:00+00:00", name="December"),
]
COLUMNS = ["name", "start_time", "price", "meeting_description", "group_leader_id", "eap"]


# --- the page itself, without a browser ----------------------------------------------------


class _Elements(HTMLParser):
    """Every element's tag and attributes, and the text of scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "label":
            self._label_for = attributes.get("for")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self.labels[self._label_for] = self.labels.get(self._label_for, "") + data
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


async def test_the_page_is_served_with_a_strict_csp_and_labelled_controls(gateway: Any) -> None:
    response = await gateway.get(EXPORT_PAGE_PATH)
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "http" not in policy  # no other origin
    page = _Elements()
    page.feed(await response.text())
    assert page.inline_scripts == []
    for tag, attributes in page.elements:
        assert "style" not in attributes, tag
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), value
    # Every control has a label; the 18 columns carry the page's labels, in its order.
    controls = [(t, a) for t, a in page.elements if t in ("input", "select", "textarea")]
    for _, attributes in controls:
        assert attributes.get("id") in page.labels, attributes
    boxes = [a for t, a in controls if a.get("name") == "column"]
    assert [a["value"] for a in boxes] == list(COLUMN_LABELS)
    assert [page.labels[str(a["id"])].strip() for a in boxes] == list(COLUMN_LABELS.values())
    assert sum(1 for t, _ in page.elements if t == "fieldset") == sum(
        1 for t, _ in page.elements if t == "legend"
    )
    live = {a.get("id"): a for t, a in page.elements if a.get("aria-live")}
    assert live["status"]["role"] == "status" and live["error"]["role"] == "alert"


async def test_the_page_says_which_time_zone_each_time_is_in(gateway: Any) -> None:
    html = await (await gateway.get(EXPORT_PAGE_PATH)).text()
    # The range is sent, and read by the API, in the organization's zone...
    assert "<legend>From and to (your organization's time zone)</legend>" in html
    # ...while the preview shows the API's times, which are UTC: said beside the table.
    note = re.search(r'<p id="preview-zone" class="hint">(.*?)</p>', html, re.S)
    assert note is not None
    text = " ".join(note.group(1).split())
    assert text.startswith("Times are in UTC")
    assert "your organization's time zone" in text
    page = _Elements()
    page.feed(html)
    region = next(a for _, a in page.elements if a.get("role") == "region")
    assert region["aria-describedby"] == "preview-zone"


def test_the_page_offers_only_what_the_api_accepts() -> None:
    assert set(REPORTING_DAY_LABELS) == set(REPORTING_DAYS) - {"all"}  # all is all_past
    assert set(REPORT_TYPE_LABELS) == set(REPORT_TYPES)


async def test_the_assets_are_served_locally(gateway: Any) -> None:
    for name, content_type in ASSETS.items():
        response = await gateway.get(f"{ASSETS_PATH}/{name}")
        assert response.status == 200, name
        assert response.content_type == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.read()
    missing = await gateway.get(f"{ASSETS_PATH}/secrets.txt")
    assert missing.status == 404
    assert await missing.json() == {"error": "Not Found"}
    script = await (await gateway.get(f"{ASSETS_PATH}/export.js")).text()
    assert "innerHTML" not in script  # API values are put in as text, never as markup
    assert not re.search(r"https?://", script)


# --- in a real browser -----------------------------------------------------------------------


def require_chromium() -> Path:
    """Debian's Chromium, or a failure (not a skip) that says how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; the export page test needs it. "
            "Install it with `make browser` (as root: apt-get update && apt-get install -y "
            "chromium).",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
def served(db: peewee.Database, database_url: str) -> Iterator[Served]:
    load_fixture(
        document(
            IN_RANGE + OUT_OF_RANGE,
            organizations=[organization(ORG_ID, key=ACCESS_KEY)],
            users=[user(4501)],
        )
    )
    db.close()
    with serving(database_url, SECRET) as running:
        yield running


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():
        old.unlink()
    return ARTIFACTS


def api_get(served: Served, token: str, params: list[tuple[str, str]]) -> tuple[int, bytes]:
    url = (
        f"{served.http_base}/api/v2/organizations/{ORG_ID}/export_meetings?"
        + urllib.parse.urlencode(params)
    )
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def expected_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value[:1] and value[0] in FORMULA_STARTS else value
    return orjson.dumps(value).decode()


def test_the_export_page_in_a_browser(served: Served, artifacts: Path) -> None:
    chromium = require_chromium()
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, viewport={"width": 1200, "height": 900}
            )
            page = context.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console: {message.text}")
                    if message.type == "error" and "Failed to load resource" not in message.text
                    else None
                ),
            )
            page.goto(served.http_base + EXPORT_PAGE_PATH)
            expect(page).to_have_title("Export meetings")
            _run_the_flow(page, served, artifacts)
        finally:
            browser.close()
    assert problems == [], problems  # no script errors, no CSP violations


def _run_the_flow(page: Any, served: Served, artifacts: Path) -> None:
    from playwright.sync_api import expect

    error = page.locator("#error")
    status = page.locator("#status")

    # A wrong key: the API's message, announced, and focus back on the key.
    page.get_by_label("Access key").click()
    page.keyboard.type("x" * 24)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Get token")).to_be_focused()
    page.keyboard.press("Enter")
    expect(error).to_have_text("Invalid Access Key")
    expect(page.get_by_label("Access key")).to_be_focused()
    expect(page.get_by_label("Access key")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#access-key-error")).to_have_text("Invalid Access Key")  # beside it
    page.screenshot(path=str(artifacts / "01-invalid-access-key.png"), full_page=True)

    # The right key, with the mouse: a token, and the key is cleared.
    page.get_by_label("Access key").fill(ACCESS_KEY)
    page.get_by_role("button", name="Get token").click()
    expect(status).to_have_text("Token received; it is valid for 24 hours.")
    expect(error).to_be_empty()
    expect(page.locator(".field-error")).to_have_count(0)
    token = page.get_by_label("Token", exact=True).input_value()
    assert token.count(".") == 2
    expect(page.get_by_label("Access key")).to_have_value("")

    page.get_by_label("Organization id").click()
    page.keyboard.type(str(ORG_ID))

    # Columns: untick all, then tick some by keyboard (Space) and some by mouse.
    page.get_by_role("button", name="Untick all").click()
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the next checkbox: Meeting Type
    expect(page.get_by_label("Meeting Type")).to_be_focused()
    for label in ("Start Time", "Price", "Description", "Group Leader", "EAP Meeting"):
        page.get_by_text(label, exact=True).click()  # clicking the label ticks its box
    checked = page.locator('input[name="column"]:checked')
    expect(checked).to_have_count(len(COLUMNS))
    assert [checked.nth(i).get_attribute("value") for i in range(len(COLUMNS))] == [
        "name",
        "start_time",
        "price",
        "meeting_description",
        "group_leader_id",
        "eap",
    ]

    page.get_by_label("Date range").select_option("custom")
    page.get_by_label("From", exact=True).fill("2025-11-01T08:00")
    page.get_by_label("To", exact=True).fill("2025-11-30T17:00")
    page.get_by_label("All meetings").check()

    # The keyboard focus is visible.
    page.get_by_role("button", name="Preview first 20").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"

    # Preview: the first page of 20, as the API's JSON has it.
    page.keyboard.press("Enter")
    query = [
        *(("column[]", c) for c in COLUMNS),
        ("reporting_days", "custom"),
        ("report_type", "all_meetings"),
        ("start_time", "11/01/2025 08:00 AM"),
        ("end_time", "11/30/2025 05:00 PM"),
    ]
    status_code, body = api_get(served, token, [*query, ("page", "1"), ("per_page", "20")])
    assert status_code == 200
    first_page = orjson.loads(body)
    total = len(IN_RANGE)
    assert first_page["metadata"]["total_count"] == total
    expect(page.locator("#preview-caption")).to_have_text(
        f"Preview: 20 of {total} meetings (page 1 of 2)"
    )
    expect(status).to_have_text(f"Preview ready: 20 of {total} meetings (page 1 of 2).")
    headers = page.locator("#preview-table thead th").all_inner_texts()
    assert headers == [COLUMN_LABELS[c] for c in COLUMNS]
    cells = page.locator("#preview-table tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
    )
    keys = [c.replace("group_leader_id", "group_leader") for c in COLUMNS]
    assert cells == [
        [
            m[k] if isinstance(m[k], str) else json.dumps(m[k]) if m[k] is not None else ""
            for k in keys
        ]
        for m in first_page["meetings"]
    ]
    # The preview's times are the API's, in UTC, and the page says so beside the table.
    expect(page.locator("#preview-zone")).to_be_visible()
    expect(page.locator("#preview-zone")).to_contain_text("Times are in UTC")
    starts = [row[COLUMNS.index("start_time")] for row in cells]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in starts)
    page.screenshot(path=str(artifacts / "02-preview.png"), full_page=True)

    # Download CSV: every matching meeting, the same rows as the API's JSON export.
    status_code, body = api_get(served, token, query)
    assert status_code == 200
    every = orjson.loads(body)["meetings"]
    assert len(every) == total
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert download.suggested_filename == f"meetings-{ORG_ID}-{today}.csv"
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    text = saved.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [COLUMN_LABELS[c] for c in COLUMNS]
    assert rows[1:] == [[expected_cell(m[k]) for k in keys] for m in every]
    assert rows[2][0] == "'=1+1"  # neutralised for spreadsheets
    expect(status).to_have_text(re.compile(rf"^Downloaded meetings-{ORG_ID}-{today}\.csv \("))
    page.screenshot(path=str(artifacts / "03-csv-downloaded.png"), full_page=True)

    # Download JSON: the API's bytes.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download JSON").click()
    saved_json = artifacts / download_info.value.suggested_filename
    download_info.value.save_as(saved_json)
    assert saved_json.suffix == ".json"
    _, json_body = api_get(served, token, [*query, ("format", "json")])
    assert saved_json.read_bytes() == json_body == body

    # A request the API refuses: its {"error"} message is shown as it is.
    page.get_by_label("To", exact=True).fill("")
    page.get_by_role("button", name="Preview first 20").click()
    refused_code, refused = api_get(
        served, token, [(n, v) for n, v in query if n != "end_time"] + [("per_page", "20")]
    )
    assert refused_code == 400
    message = orjson.loads(refused)["error"]
    assert "end_time" in message
    expect(error).to_have_text(message)
    expect(status).to_be_empty()
    expect(page.locator("#preview-section")).to_be_hidden()  # no stale preview
    page.screenshot(path=str(artifacts / "04-api-error.png"), full_page=True)

    # Nothing ticked: said before any request.
    page.get_by_role("button", name="Untick all").click()
    page.get_by_role("button", name="Download CSV").click()
    expect(error).to_have_text("Tick at least one column.")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    assert os.listdir(artifacts)  # the screenshots and downloads are there to look at
