"""Response objects: the 200s, the export's headers, and the errors grouped by HTTP status."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from gateway.errors import http_status
from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.legacy.export_formats import CSV, NDJSON, NDJSON_NEW_NAME
from gateway.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_URL_BYTES
from gateway.openapi.examples import EXPORT_EXAMPLES, csv_example, ndjson_example
from gateway.openapi.values import Schema, ref

# The CSV header's labels as the description abridges them: "Name, Meeting Type, ..., Wait List".
_LABELS_IN_SHORT = ", ".join(
    [EXPORT_COLUMNS[0].label, EXPORT_COLUMNS[1].label, "...", EXPORT_COLUMNS[-1].label]
)


@dataclass(frozen=True)
class ErrorCase:
    """A status code an RPC answers with, and when (the HTTP status comes from the table)."""

    code: grpc.StatusCode
    when: str
    example: str | None = None
    retry_after: bool = False  # the answer may carry a Retry-After header


def success_response(
    description: str, schema: Schema, examples: Mapping[str, Any]
) -> Callable[[], Schema]:
    def build() -> Schema:
        return {
            "description": description,
            "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
            "content": {"application/json": {"schema": schema, "examples": dict(examples)}},
        }

    return build


def _header(description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "schema": schema or {"type": "string"}}


_COUNT = {"type": "integer", "minimum": 0}
# Headers of the export's 200, as components/headers entries.
EXPORT_HEADERS: Mapping[str, Schema] = {
    "Vary": _header("`Accept, Accept-Encoding`: the body depends on both."),
    "ContentEncoding": _header(
        "`gzip` when the request's Accept-Encoding allows it (flushed batch by batch).",
        {"type": "string", "enum": ["gzip"]},
    ),
    "ContentDisposition": _header(
        'CSV and NDJSON only: `attachment; filename="meetings-<organization id>-<UTC date '
        'YYYYMMDD>.csv"` (`...-page-<n>.csv` for a page).'
    ),
    "XPage": _header("CSV and NDJSON pages: metadata.page.", _COUNT),
    "XPerPage": _header("CSV and NDJSON pages: metadata.per_page.", _COUNT),
    "XTotalPages": _header("CSV and NDJSON pages: metadata.total_pages.", _COUNT),
    "XTotalCount": _header("CSV and NDJSON pages: metadata.total_count.", _COUNT),
    "Link": _header(
        'CSV and NDJSON pages asked for with GET: RFC 8288 links `rel="first"`, `"prev"`, '
        '`"next"`, `"last"` (the request\'s query with another page).'
    ),
}
_EXPORT_HEADER_NAMES = {
    "Vary": "Vary",
    "Content-Encoding": "ContentEncoding",
    "Content-Disposition": "ContentDisposition",
    "X-Page": "XPage",
    "X-Per-Page": "XPerPage",
    "X-Total-Pages": "XTotalPages",
    "X-Total-Count": "XTotalCount",
    "Link": "Link",
}


def export_success() -> Schema:
    """The export's 200: legacy JSON, or CSV, or NDJSON; the headers that may come with it."""
    response = success_response(
        "The meetings; with metadata when paginated (in headers for CSV and NDJSON).",
        {"oneOf": [ref("ExportMeetingsResult"), ref("ExportMeetingsPage")]},
        EXPORT_EXAMPLES,
    )()
    response["headers"] |= {
        header: {"$ref": f"#/components/headers/{name}"}
        for header, name in _EXPORT_HEADER_NAMES.items()
    }
    ndjson = {
        "schema": {
            "type": "string",
            "description": "One ExportedMeeting object per line, each line ending in LF; the "
            "same bytes as the objects of the JSON export.",
        },
        "example": ndjson_example(),
    }
    response["content"] |= {
        CSV.content_type.split(";")[0]: {
            "schema": {
                "type": "string",
                "description": "UTF-8 with a byte order mark (for Excel). A header row of the "
                f"column labels in the requested order ({_LABELS_IN_SHORT}), "
                "then one row per meeting; CRLF line ends, RFC 4180 quoting. null is an empty "
                "cell, flags are true/false, numbers as in the JSON. A text cell that starts "
                "with =, +, -, @, a tab or a carriage return (or their full-width forms) gets "
                "a leading single quote, so spreadsheets show it instead of running it; "
                "numbers are never changed.",
            },
            "example": csv_example(),
        },
        NDJSON.content_type.split(";")[0]: ndjson,
        NDJSON_NEW_NAME.content_type.split(";")[0]: ndjson,
    }
    return response


def _gateway_error(description: str, example: str) -> Callable[[], Schema]:
    def build() -> Schema:
        return {
            "description": description,
            "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
            "content": {
                "application/json": {
                    "schema": ref("Error"),
                    "examples": {"limit": {"value": {"error": example}}},
                }
            },
        }

    return build


# What the gateway answers itself, before any RPC (gateway.limits), on every operation.
GATEWAY_ERRORS: Mapping[int, Callable[[], Schema]] = {
    413: _gateway_error(
        "The body is larger than the gateway takes (64 KiB unless configured otherwise).",
        f"The request body is too large (at most {DEFAULT_MAX_BODY_BYTES} bytes)",
    ),
    414: _gateway_error(
        "The URL (path and query string) is longer than the gateway takes (8 KiB unless "
        "configured otherwise).",
        f"The URL is too long (at most {DEFAULT_MAX_URL_BYTES} bytes)",
    ),
}


def error_responses(rpc_name: str, cases: Iterable[ErrorCase]) -> dict[str, Schema]:
    """Error cases grouped by the HTTP status the gateway's table gives them on this RPC."""
    by_status: dict[int, list[ErrorCase]] = {}
    for case in cases:
        by_status.setdefault(http_status(rpc_name, case.code), []).append(case)
    responses: dict[str, Schema] = {}
    for status in sorted(by_status):
        grouped = by_status[status]
        examples = {
            case.code.name.lower(): {"value": {"error": case.example}}
            for case in grouped
            if case.example
        }
        media: Schema = {"schema": ref("Error")}
        if examples:
            media["examples"] = examples
        headers = {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}}
        if any(case.retry_after for case in grouped):
            headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
        responses[str(status)] = {
            "description": _sentence("; or ".join(case.when for case in grouped)),
            "headers": headers,
            "content": {"application/json": media},
        }
    return responses


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
