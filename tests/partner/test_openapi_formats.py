"""The OpenAPI document describes the export's formats: the `format` parameter, the CSV and
NDJSON responses and their headers, with examples that are what the gateway really writes."""

from __future__ import annotations

from typing import Any

import orjson
import peewee

from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.legacy.export_formats import FORMATS
from gateway.openapi import build_openapi
from store.loader import load_fixture
from tests.export.conftest import ACCESS_KEY as EXPORT_ACCESS_KEY
from tests.export.conftest import EXPORT_URL
from tests.export.test_golden import EXAMPLE_QUERY, PAGE_EXAMPLE, example_document
from tests.partner.conftest import ORG_ID, OpenApiDocument, rest_token

# Each column's key and its label (the export page's checkboxes, the CSV header), in order.
COLUMN_LABELS = {column.key: column.label for column in EXPORT_COLUMNS}
EXPORT = "/api/v2/organizations/{organization_id}/export_meetings"
URL = EXPORT.replace("{organization_id}", str(ORG_ID))
MEDIA_TYPES = {"application/json", "text/csv", "application/x-ndjson", "application/ndjson"}


def test_the_format_parameter_is_documented_for_get_and_post() -> None:
    document = build_openapi()
    parameter = document["components"]["parameters"]["ExportFormat"]
    assert parameter["name"] == "format" and parameter["in"] == "query"
    # The spelling to send first; blank and padded (any case) spellings are taken too.
    assert parameter["schema"]["anyOf"][0]["enum"] == list(FORMATS) == ["json", "csv", "ndjson"]
    assert parameter["schema"]["default"] == "json"
    assert "Accept" in parameter["description"]
    # A POST takes it in the body, whose values replace the query's.
    refs = {
        method: [p.get("$ref") for p in document["paths"][EXPORT][method]["parameters"]]
        for method in ("get", "post")
    }
    assert "#/components/parameters/ExportFormat" in refs["get"]
    assert "#/components/parameters/ExportFormat" not in refs["post"]
    form = document["components"]["schemas"]["ExportMeetingsForm"]["properties"]["format"]
    assert form["anyOf"][0]["enum"] == list(FORMATS)
    body = document["components"]["schemas"]["ExportMeetingsBody"]["properties"]["format"]
    assert body["anyOf"][0]["anyOf"][0]["enum"] == list(FORMATS)
    upcoming = document["paths"]["/api/v2/organizations/{organization_id}/upcoming_meetings"]
    assert all("ExportFormat" not in str(p) for p in upcoming["get"]["parameters"])


def test_the_export_200_documents_csv_ndjson_and_the_headers() -> None:
    document = build_openapi()
    for method in ("get", "post"):
        ok = document["paths"][EXPORT][method]["responses"]["200"]
        assert set(ok["content"]) == MEDIA_TYPES
        assert "byte order mark" in ok["content"]["text/csv"]["schema"]["description"]
        for header in ok["headers"].values():
            name = header["$ref"].rsplit("/", 1)[1]
            assert name in document["components"]["headers"]
        assert {
            "Vary",
            "Content-Encoding",
            "Content-Disposition",
            "X-Page",
            "X-Per-Page",
            "X-Total-Pages",
            "X-Total-Count",
            "Link",
        } <= set(ok["headers"])


# The page's example export (tests/export/test_golden.py) in CSV, written out by hand from
# the README's rules: the page's labels in the requested order, CRLF, numbers as the JSON has
# them. The served body starts with a UTF-8 BOM, which the documented example leaves out.
CSV_EXAMPLE = (
    "Name,Meeting Type,Start Time,Status,Group Leader,Price\r\n"
    "Morning Grief Support Circle,Group,2026-05-23T15:00:00.000Z,scheduled,4501,0\r\n"
    "Evening Recovery Check-in,Group,2026-05-24T23:30:00.000Z,scheduled,4502,10\r\n"
)
# In NDJSON, each line is byte for byte the legacy JSON export's object.
NDJSON_EXAMPLE = "".join(
    orjson.dumps(meeting).decode() + "\n" for meeting in orjson.loads(PAGE_EXAMPLE)["meetings"]
)


async def test_the_csv_and_ndjson_examples_are_what_the_gateway_writes(
    gateway: Any, db: peewee.Database
) -> None:
    # The page's example meetings and request, served for real; the documented examples and
    # the served bytes must both be the expected text, which no writer of the gateway made.
    load_fixture(example_document())
    token = await rest_token(gateway, EXPORT_ACCESS_KEY)
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    ok = build_openapi()["paths"][EXPORT]["get"]["responses"]["200"]["content"]
    for media_type, expected, served_prefix in (
        ("text/csv", CSV_EXAMPLE, "\ufeff"),
        ("application/x-ndjson", NDJSON_EXAMPLE, ""),
    ):
        response = await gateway.get(
            EXPORT_URL, params=EXAMPLE_QUERY, headers={**headers, "Accept": media_type}
        )
        assert response.status == 200
        assert await response.read() == (served_prefix + expected).encode()
        assert ok[media_type]["example"] == expected


async def test_ndjson_lines_match_the_documented_row_schema(
    partner_gateway: Any, partner_data: object, openapi: OpenApiDocument
) -> None:
    token = await rest_token(partner_gateway)
    every = [("column[]", key) for key in COLUMN_LABELS]
    validator = openapi.validator("components", "schemas", "ExportedMeeting")
    lines = 0
    for reporting_days in ("all", "all_upcoming"):
        response = await partner_gateway.get(
            URL,
            params=[*every, ("reporting_days", reporting_days), ("format", "ndjson")],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
        for line in (await response.read()).splitlines():
            validator.validate(orjson.loads(line))
            lines += 1
    assert lines == 4
