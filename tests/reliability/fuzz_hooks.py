"""Schemathesis hooks of the fuzz run (tests/reliability/fuzz.py loads them).

OpenAPI has no way to state a rule across query parameters, and the export has two:
`reporting_days=custom` needs both start_time and end_time, and `format=csv|ndjson` needs a
known column (a 400 otherwise). The JSON and form bodies state them (if/then in their
schemas); the query string's parameters stand alone in the document, whose prose says them.
So a generated GET export that names custom without both ends gets the missing end filled in,
and one that asks for CSV or NDJSON without a known column gets one added, before it is sent:
valid data stays valid, and what the generator chose (a negative value included) is never
changed.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from gateway.legacy.export import COLUMNS

EXPORT_SUFFIX = "/export_meetings"
FILLED_END = "01/01/2026 12:00 AM"
ADDED_COLUMN = "name"
KNOWN_COLUMNS = frozenset(COLUMNS)
ROW_FORMATS = frozenset({"csv", "ndjson"})


def _last(value: Any) -> Any:
    # A repeated parameter counts by its last value, as in the gateway.
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_custom_range(query: dict[str, Any]) -> None:
    days = _last(query.get("reporting_days"))
    if not isinstance(days, str) or days.strip() != "custom":
        return
    for end in ("start_time", "end_time"):
        if _blank(_last(query.get(end))):
            query[end] = FILLED_END


def _add_a_column(query: dict[str, Any]) -> None:
    export_format = _last(query.get("format"))
    if not isinstance(export_format, str) or export_format.strip().lower() not in ROW_FORMATS:
        return
    columns = query.get("column[]")
    listed = columns if isinstance(columns, list) else [] if columns is None else [columns]
    if not any(column in KNOWN_COLUMNS for column in listed):
        query["column[]"] = [*listed, ADDED_COLUMN]


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    query = case.query
    if case.method.upper() != "GET" or not case.path.endswith(EXPORT_SUFFIX) or not query:
        return
    _fill_custom_range(query)
    _add_a_column(query)
