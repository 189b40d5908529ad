"""Examples from the legacy pages, and the export's in CSV and NDJSON as the gateway writes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.legacy.export_formats.writers import UTF8_BOM, CsvWriter, NdjsonWriter

_EXAMPLE_ROW = {
    "name": "Morning Grief Support Circle",
    "meeting_type": "Group",
    "start_time": "2026-05-23T15:00:00.000Z",
    "status": "scheduled",
    "group_leader": 4501,
    "price": 0,
}
EXPORT_EXAMPLES: Mapping[str, Any] = {
    "unpaginated": {
        "summary": "Without page or per_page: every matching meeting, streamed",
        "value": {
            "success": True,
            "meetings": [
                _EXAMPLE_ROW,
                {
                    "name": "Evening Recovery Check-in",
                    "meeting_type": "Group",
                    "start_time": "2026-05-24T23:30:00.000Z",
                    "status": "scheduled",
                    "group_leader": 4502,
                    "price": 10,
                },
            ],
        },
    },
    "paginated": {
        "summary": "With page and/or per_page",
        "value": {
            "success": True,
            "metadata": {"page": 1, "per_page": 100, "total_pages": 3, "total_count": 250},
            "meetings": [_EXAMPLE_ROW],
        },
    },
}
UPCOMING_EXAMPLE: Mapping[str, Any] = {
    "current_page": 1,
    "items": 20,
    "total_items": 2,
    "total_pages": 1,
    "meetings": [
        {
            "id": 9123,
            "name": "Morning Grief Support Circle",
            "start_time": "2026-05-23T15:00:00.000Z",
            "end_time": "2026-05-23T16:00:00.000Z",
            "duration": "1 hour",
            "duration_in_minutes": 60,
            "topic": "Grief & Loss",
            "description": "A supportive space to share and process grief.",
            "location": "heypeers",
            "meeting_series_id": 412,
            "max_attendees": 12,
            "registered_attendees": 7,
            "group_leader": {
                "id": 4501,
                "name": "Jane D.",
                "avatar": "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png",
            },
        },
        {
            "id": 9124,
            "name": "Evening Recovery Check-in",
            "start_time": "2026-05-24T23:30:00.000Z",
            "end_time": "2026-05-25T00:30:00.000Z",
            "duration": "1 hour",
            "duration_in_minutes": 60,
            "topic": "Substance Use Recovery",
            "description": None,
            "location": "zoom",
            "meeting_series_id": None,
            "max_attendees": 20,
            "registered_attendees": 0,
            "group_leader": None,
        },
    ],
}


def _example_columns() -> list[str]:
    keys = {column.json_key: column.key for column in EXPORT_COLUMNS}
    rows = EXPORT_EXAMPLES["unpaginated"]["value"]["meetings"]
    return [keys[key] for key in rows[0]]


def csv_example() -> str:
    """The unpaginated example's rows as the gateway writes them in CSV (BOM left out)."""
    writer = CsvWriter(_example_columns())
    rows = orjson.dumps(EXPORT_EXAMPLES["unpaginated"]["value"]["meetings"])[1:-1]
    return (writer.head() + writer.rows(rows)).decode().removeprefix(UTF8_BOM)


def ndjson_example() -> str:
    rows = orjson.dumps(EXPORT_EXAMPLES["unpaginated"]["value"]["meetings"])[1:-1]
    return NdjsonWriter().rows(rows).decode()
