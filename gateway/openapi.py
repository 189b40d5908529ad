"""The OpenAPI 3.1 document of the REST API, generated from the service descriptor.

Paths, methods, path parameters and the legacy parameter names come from the google.api.http
annotations (gateway.routes) and the request messages (a json_name the proto sets is the legacy
name); value types come from the proto field types and enums; HTTP statuses come from the one
code -> status table in gateway.errors. What only the legacy API knows (the response shapes,
which values may be null, defaults, prose) is written once, in the small named builders below.
Nothing here lists a URL, so the document cannot drift from the routes the gateway serves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

import grpc
import orjson
from aiohttp import web
from google.protobuf import descriptor

from gateway.errors import http_status
from gateway.legacy.export_formats import (
    COLUMN_LABELS,
    CSV,
    FORMATS,
    JSON_KEYS,
    NDJSON,
    NDJSON_NEW_NAME,
    UTF8_BOM,
    CsvWriter,
    NdjsonWriter,
)
from gateway.limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_URL_BYTES,
    GRPC_TIMEOUT_HEADER,
    GRPC_TIMEOUT_UNITS,
    MAX_TIMEOUT_SECONDS,
    TIMEOUT_HEADER,
)
from gateway.params import INT64_MAX, MAX_VALUES_PER_PARAMETER
from gateway.routes import Route, service_routes
from heypeers.meetings.v1 import meetings_service_pb2 as pb

OPENAPI_PATH = "/openapi.json"
OPENAPI_VERSION = "3.1.0"

Schema = dict[str, Any]
FD = descriptor.FieldDescriptor
C = grpc.StatusCode

# --- legacy spellings of proto values --------------------------------------------------------


def legacy_enum_values(enum: descriptor.EnumDescriptor) -> list[str]:
    """The legacy strings of an enum: each value's lower-case suffix, UNSPECIFIED left out.

    The prefix is the enum's name in SCREAMING_SNAKE_CASE (the buf STANDARD rule), so
    ReportingDays.REPORTING_DAYS_ALL_PAST reads "all_past", as the gateway accepts it.
    """
    prefix = _screaming_snake(enum.name) + "_"
    return [v.name.removeprefix(prefix).lower() for v in enum.values if v.number != 0]


def _screaming_snake(name: str) -> str:
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """`schema` or null (JSON Schema 2020-12 style: a type list, or a oneOf for a $ref)."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


# --- what the gateway's binders accept, as patterns ----------------------------------------
# The document admits exactly the values the gateway takes, no more and no fewer: partners'
# tools (and the fuzzing in tests/reliability) check both ways. The binders are lenient where
# legacy clients were: a blank value (str.strip() leaves nothing: any Unicode space) counts as
# absent, and integers, dates and enum names may come with surrounding spaces. Integers (an
# optional sign, ASCII digits, any size) are strings in a query and JSON numbers or strings in
# a body. tests/gateway/test_openapi_constraints.py holds each pattern to the gateway's code.


def char_class(chars: Iterable[str]) -> str:
    """A regex character class of `chars`, with ranges, written as \\xNN / \\uNNNN escapes that
    Python and ECMA-262 (the dialect of OpenAPI's `pattern`) read alike."""
    codes = sorted({ord(c) for c in chars})
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])

    def escape(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    parts = (escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in runs)
    return "[" + "".join(parts) + "]"


# What str.strip() and str.split() take for spaces: every character str.isspace() accepts.
SPACE = char_class(c for c in map(chr, range(0x110000)) if c.isspace())
# The same within ASCII: integers and dates must be ASCII (gateway.params, parse_legacy_datetime).
ASCII_SPACE = char_class(c for c in map(chr, range(0x80)) if c.isspace())


def blank_or(body: str, *, space: str = ASCII_SPACE) -> str:
    """An anchored pattern: a blank value, or `body` with surrounding `space`s."""
    return f"^(?:{SPACE}*|{space}*(?:{body}){space}*)$"


def _one_of_words(words: Iterable[str], *, any_case: bool = False) -> str:
    def spell(word: str) -> str:
        if not any_case:
            return re.escape(word)
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)

    return "|".join(spell(word) for word in words)


# Export ranges: MM/DD/YYYY HH:MM AM/PM, as time.strptime reads it after the gateway joins the
# words with single spaces: one-digit months, days, hours and minutes, a day after a space
# ("11/ 1/2025"), any case of AM/PM, any ASCII spaces between and around the parts, and only
# the days of the calendar (February 29 in leap years only; no year 0).
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MULTIPLE_OF_4 = r"(?:0[48]|[2468][048]|[13579][26])"
_LEAP_YEAR = rf"(?:[0-9]{{2}}{_MULTIPLE_OF_4}|{_MULTIPLE_OF_4}00)"
_DAY_TO_28 = rf"(?:0?[1-9]|{ASCII_SPACE}+[1-9]|1[0-9]|2[0-8])"
_DATE = (
    rf"(?:(?:0?[13578]|1[02])/(?:{_DAY_TO_28}|29|3[01])"
    rf"|(?:0?[469]|11)/(?:{_DAY_TO_28}|29|30)"
    rf"|0?2/{_DAY_TO_28})/{_YEAR}"
    rf"|0?2/29/{_LEAP_YEAR}"
)
_TIME = r"(?:0?[1-9]|1[0-2]):[0-5]?[0-9]"
LEGACY_DATETIME_PATTERN = blank_or(rf"(?:{_DATE}){ASCII_SPACE}+{_TIME}{ASCII_SPACE}+[AaPp][Mm]")
# Integers: an optional sign and ASCII digits, any number of them (the gateway clamps).
INTEGER_STRING_PATTERN = blank_or(r"[+-]?[0-9]+")
POSITIVE_INTEGER_STRING_PATTERN = blank_or(r"\+?0*[1-9][0-9]*")


def _digits(low: int, high: int) -> str:
    return str(low) if low == high else f"[{low}-{high}]"


def _any_digits(count: int) -> str:
    return "[0-9]" if count == 1 else f"[0-9]{{{count}}}"


def _digit_span(low: str, high: str) -> str:
    """A pattern for the numbers from `low` to `high`, written with as many digits each."""
    if low == high:
        return low
    if len(low) == 1:
        return _digits(int(low), int(high))
    rest = len(low) - 1
    if low[0] == high[0]:
        return f"{low[0]}(?:{_digit_span(low[1:], high[1:])})"
    parts = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * rest:
        parts.append(f"{low[0]}(?:{_digit_span(low[1:], '9' * rest)})")
        first += 1
    tail = None
    if high[1:] != "9" * rest:
        tail = f"{high[0]}(?:{_digit_span('0' * rest, high[1:])})"
        last -= 1
    if first <= last:
        parts.append(_digits(first, last) + _any_digits(rest))
    return "|".join([*parts, *([tail] if tail else [])])


def counting_pattern(highest: int, digits: int) -> str:
    """A pattern for 1..highest written in at most `digits` digits (leading zeros allowed)."""
    parts = []
    for length in range(1, len(str(highest)) + 1):
        low, high = max(1, 10 ** (length - 1)), min(highest, 10**length - 1)
        zeros = digits - length
        padding = f"0{{0,{zeros}}}" if zeros else ""
        parts.append(f"{padding}(?:{_digit_span(str(low), str(high))})")
    return "|".join(parts)


def _timeout_seconds_pattern() -> str:
    """X-Request-Timeout as gateway.limits reads it: [0-9]{1,7}(.[0-9]{1,6})? seconds, above 0
    and at most MAX_TIMEOUT_SECONDS (a whole number)."""
    limit = int(MAX_TIMEOUT_SECONDS)
    fraction = r"(?:\.[0-9]{1,6})?"
    nonzero_fraction = "|".join(f"0{{{k}}}[1-9][0-9]{{0,{5 - k}}}" for k in range(6))
    return (
        f"(?:{counting_pattern(limit - 1, 7)}){fraction}"
        f"|0{{0,{7 - len(str(limit))}}}{limit}(?:\\.0{{1,6}})?"
        f"|0{{1,7}}\\.(?:{nonzero_fraction})"
    )


def _grpc_timeout_pattern() -> str:
    """Grpc-Timeout as gateway.limits reads it: up to 8 digits and a unit, above 0 and at most
    MAX_TIMEOUT_SECONDS once converted (as the gateway computes it, in floating point)."""
    parts = []
    for unit, seconds in GRPC_TIMEOUT_UNITS.items():
        highest = min(10**8 - 1, int(MAX_TIMEOUT_SECONDS / seconds) + 1)
        while highest * seconds > MAX_TIMEOUT_SECONDS:
            highest -= 1
        parts.append(f"(?:{counting_pattern(highest, 8)}){unit}")
    return "|".join(parts)


TIMEOUT_SECONDS_PATTERN = f"^{SPACE}*(?:{_timeout_seconds_pattern()}){SPACE}*$"
GRPC_TIMEOUT_PATTERN = f"^{SPACE}*(?:{_grpc_timeout_pattern()}){SPACE}*$"


_INT64 = frozenset({FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64})
_INT32 = frozenset({FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32, FD.TYPE_UINT32})

# Well-known and shared messages, as the legacy JSON writes them.
_MESSAGE_SCHEMAS: Mapping[str, Callable[[], Schema]] = {
    # Responses print timestamps as ISO 8601 UTC with milliseconds: 2026-05-23T15:00:00.000Z.
    "google.protobuf.Timestamp": lambda: {"type": "string", "format": "date-time"},
    # Prices: a JSON number, an integer when whole.
    "google.type.Decimal": lambda: {"type": "number"},
    # Requests name civil date-times the legacy way, in the organization's time zone.
    "google.type.DateTime": lambda: {
        "type": "string",
        "pattern": LEGACY_DATETIME_PATTERN,
        "examples": ["11/01/2025 08:00 AM"],
    },
    "heypeers.meetings.v1.GroupLeader": lambda: _ref("GroupLeader"),
    "heypeers.meetings.v1.UpcomingMeeting": lambda: _ref("UpcomingMeeting"),
}


def _message_name(field: descriptor.FieldDescriptor) -> str | None:
    return field.message_type.full_name if field.message_type is not None else None


def value_schema(field: descriptor.FieldDescriptor) -> Schema:
    """The legacy JSON schema of one (non-repeated) value of a proto field."""
    if field.type in _INT64:
        return {"type": "integer", "format": "int64"}
    if field.type in _INT32:
        return {"type": "integer", "format": "int32"}
    if field.type == FD.TYPE_STRING:
        return {"type": "string"}
    if field.type == FD.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return {"type": "number"}
    if field.enum_type is not None:
        return {"type": "string", "enum": legacy_enum_values(field.enum_type)}
    build = _MESSAGE_SCHEMAS.get(_message_name(field) or "")
    if build is not None:
        return build()
    raise ValueError(f"{field.full_name}: no legacy JSON form for this field type")


def field_schema(field: descriptor.FieldDescriptor) -> Schema:
    if field.is_repeated:
        return {"type": "array", "items": value_schema(field)}
    return value_schema(field)


# --- request parameters ----------------------------------------------------------------------

# Request fields the gateway fills itself; partners never send them.
GATEWAY_SET_FIELDS = frozenset({"row_encoding"})
# Integer parameters the service refuses below 1 (the others are clamped, whatever their size).
POSITIVE_PARAMETERS = frozenset({"meeting_series_id"})

# What the legacy pages say of each parameter, by its legacy name.
PARAMETER_NOTES: Mapping[str, tuple[str, Any]] = {
    "access_key": ("Your organization's 24-character access key.", None),
    "column": (
        "The meeting columns of each row, in this order (each once); in a query string or a "
        "form, a repeated `column[]=` (a plain `column=` works too). Unknown keys are "
        'ignored; with no known key the answer is `{"success": true, "meetings": []}` in '
        "JSON, and a 400 listing the accepted keys in CSV or NDJSON.",
        None,
    ),
    "reporting_days": (
        "Date-range preset, evaluated in the organization's time zone. `all` and `all_past`: "
        "meetings that have ended or are complete; `all_upcoming`: not ended, neither "
        "cancelled nor complete; `custom`: starting within start_time..end_time (both "
        "required). Empty counts as absent.",
        "all",
    ),
    "start_time": (
        "Start of the explicit range, `MM/DD/YYYY HH:MM AM/PM` in the organization's time "
        "zone (one-digit months, days, hours and minutes, any case of AM/PM and extra spaces "
        "are taken; a date not on the calendar is a 400). With end_time it also narrows any "
        "preset; alone it is ignored but under custom. Empty counts as absent.",
        None,
    ),
    "end_time": ("End of the explicit range (inclusive); the same format as start_time.", None),
    "report_type": (
        "`all_meetings`, or `eap_meetings` for the Employee Assistance Program meetings only.",
        "all_meetings",
    ),
    "page": (
        "1-based page, any integer: values below 1 count as 1. On the export, giving page or "
        "per_page turns pagination on. Empty counts as absent.",
        1,
    ),
    "per_page": (
        "Page size, any integer, clamped to 1..100. Giving it turns pagination on. Ordered by "
        "start_time, then id. Empty counts as absent.",
        100,
    ),
    "meeting_series_id": (
        "Only the meetings of this recurring series of the organization; an id that is not "
        "one of its series gives an empty list; below 1 is a 422. Empty counts as absent.",
        None,
    ),
    "items": ("Page size, any integer, clamped to 1..100. Empty counts as absent.", 20),
}


def legacy_name(field: descriptor.FieldDescriptor) -> str:
    """A request field's legacy parameter name: its json_name where the proto sets one
    (page_size is "per_page" or "items"), else its proto name (as the gateway binds them)."""
    explicit = field.json_name != _default_json_name(field.name)
    return str(field.json_name) if explicit else str(field.name)


def _default_json_name(name: str) -> str:
    # protoc's rule: drop each underscore and capitalize the letter after it.
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _legacy_fields(route: Route) -> list[descriptor.FieldDescriptor]:
    """The request fields a partner sends as parameters: not bound by the path or the gateway."""
    return [
        field
        for field in route.rpc.input_type.fields
        if field.name not in route.path_fields and field.name not in GATEWAY_SET_FIELDS
    ]


def _with_default(schema: Schema, name: str) -> Schema:
    _, default = PARAMETER_NOTES.get(name, ("", None))
    return schema if default is None else {**schema, "default": default}


def _documented(schema: Schema, name: str) -> Schema:
    note, _ = PARAMETER_NOTES.get(name, ("", None))
    return {**_with_default(schema, name), **({"description": note} if note else {})}


def path_parameters(route: Route) -> list[Schema]:
    """The path variables of a route, typed by their request fields."""
    fields = route.rpc.input_type.fields_by_name
    parameters = []
    for name in route.path_fields:
        schema = value_schema(fields[name])
        if schema["type"] == "integer":
            # The gateway answers 400 for anything but digits (not 404), and past int64 (a
            # gRPC caller cannot send more).
            schema["minimum"] = 1
            schema["maximum"] = INT64_MAX
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": "Your organization's id: the organization the token names.",
                "schema": schema,
            }
        )
    return parameters


def tolerant_enum(values: list[str], *, any_case: bool = False) -> Schema:
    """An enum parameter as the gateway reads it: one of `values` (the spelling to send), the
    same with surrounding spaces (and in any case, with `any_case`), or blank (absent)."""
    also = "surrounding spaces" + (", any case" if any_case else "")
    return {
        "anyOf": [
            {"type": "string", "enum": values},
            {
                "type": "string",
                "pattern": blank_or(_one_of_words(values, any_case=any_case), space=SPACE),
                "description": f"Also taken: {also}; blank counts as absent.",
            },
        ]
    }


def _column_schema() -> Schema:
    return {
        "anyOf": [
            {"type": "string", "enum": export_columns()},
            {"type": "string", "description": "Unknown keys are ignored."},
        ]
    }


def parameter_schema(field: descriptor.FieldDescriptor) -> Schema:
    """One value of a request field as a query or form parameter: what the gateway's binder for
    it takes (gateway.legacy), blank values included."""
    if field.is_repeated:
        # Only `column` is repeated; a value that is not a known key is ignored.
        return {
            "type": "array",
            "maxItems": MAX_VALUES_PER_PARAMETER,
            "items": _column_schema() if field.enum_type is not None else value_schema(field),
        }
    if field.enum_type is not None:
        return tolerant_enum(legacy_enum_values(field.enum_type))
    if field.type in _INT64 | _INT32:
        # Integers come as JSON numbers or strings of digits, of any size: page sizes and
        # pages are clamped, and ids below 1 refused.
        if legacy_name(field) in POSITIVE_PARAMETERS:
            return {
                "type": ["integer", "string"],
                "minimum": 1,
                "pattern": POSITIVE_INTEGER_STRING_PATTERN,
            }
        return {"type": ["integer", "string"], "pattern": INTEGER_STRING_PATTERN}
    return value_schema(field)


def json_body_value(schema: Schema) -> Schema:
    """A single-valued parameter in a JSON body: also null (absent), or a list whose last
    element counts, as in a repeated query parameter."""
    value = {"anyOf": [schema, {"type": "null"}]}
    listed = {
        "type": "array",
        "maxItems": MAX_VALUES_PER_PARAMETER,
        "items": value,
        "description": "As a repeated parameter: the last element counts.",
    }
    return {"anyOf": [*value["anyOf"], listed]}


def json_body_columns() -> Schema:
    """`column` in a JSON body: a list of keys, or one key; what is not a known key (another
    type included) is ignored."""
    return {
        "anyOf": [
            {"type": "array", "maxItems": MAX_VALUES_PER_PARAMETER, "items": {}},
            {"not": {"type": "array"}},
        ],
        "examples": [export_columns()[:3]],
    }


def query_parameters(route: Route) -> list[Schema]:
    """A GET route's legacy query parameters; repeated ones are spelled `name[]`."""
    parameters = []
    for field in _legacy_fields(route):
        name = legacy_name(field) + ("[]" if field.is_repeated else "")
        parameter: Schema = {
            "name": name,
            "in": "query",
            "required": False,
            "description": PARAMETER_NOTES.get(legacy_name(field), ("", None))[0],
            "schema": _with_default(parameter_schema(field), legacy_name(field)),
        }
        if field.is_repeated:
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def body_schema(route: Route, *, form: bool) -> Schema:
    """A body route's legacy fields as one JSON object (or form); unknown names are ignored."""
    properties: Schema = {}
    for field in _legacy_fields(route):
        name = legacy_name(field) + ("[]" if form and field.is_repeated else "")
        if field.is_repeated:
            # A form's values are strings, one or many: any of them may be an unknown key.
            schema = json_body_columns()
        elif form:
            schema = parameter_schema(field)
        else:
            schema = json_body_value(parameter_schema(field))
        properties[name] = _documented(schema, legacy_name(field))
    for parameter in GATEWAY_PARAMETERS.get(route.rpc_name, {}).values():
        schema = {key: value for key, value in parameter["schema"].items() if key != "default"}
        properties[parameter["name"]] = {
            **(schema if form else json_body_value(schema)),
            "default": parameter["schema"]["default"],
            "description": parameter["description"],
        }
    body: Schema = {"type": "object", "properties": properties}
    return body | BODY_RULES.get(route.rpc_name, {})


def _custom_needs_both_ends() -> Schema:
    """`reporting_days=custom` without both ends is a 400: in a body, the schema says so."""
    custom: Schema = {"type": "string", "pattern": f"^{SPACE}*custom{SPACE}*$"}
    # A list counts by its last element, which a schema cannot single out: under custom, a
    # list must hold no blank element at all (stricter than the gateway, never looser).
    blank_element: Schema = {
        "anyOf": [{"type": "null"}, {"type": "string", "pattern": f"^{SPACE}*$"}]
    }
    blank_value: Schema = {
        "anyOf": [
            blank_element,
            {"type": "array", "maxItems": 0},
            {"type": "array", "contains": blank_element},
        ]
    }
    return {
        "if": {
            "required": ["reporting_days"],
            "properties": {
                # Any element of a list: a list ending in custom is one of them.
                "reporting_days": {"anyOf": [custom, {"type": "array", "contains": custom}]}
            },
        },
        "then": {
            "required": ["start_time", "end_time"],
            "properties": {
                "start_time": {"not": blank_value},
                "end_time": {"not": blank_value},
            },
        },
    }


def _csv_needs_a_column() -> Schema:
    """CSV or NDJSON without a known column is a 400 (JSON keeps its legacy empty answer).
    A list counts by its last element: any csv element asks for a column (never looser)."""
    named = _one_of_words([CSV.name, NDJSON.name], any_case=True)
    text_format: Schema = {"type": "string", "pattern": f"^{SPACE}*(?:{named}){SPACE}*$"}
    known: Schema = {"type": "string", "enum": legacy_enum_values(pb.ExportColumn.DESCRIPTOR)}
    some_known: Schema = {"anyOf": [known, {"type": "array", "contains": known}]}
    return {
        "if": {
            "required": ["format"],
            "properties": {
                "format": {"anyOf": [text_format, {"type": "array", "contains": text_format}]}
            },
        },
        "then": {
            "anyOf": [
                {"required": [name], "properties": {name: some_known}}
                for name in ("column", "column[]")
            ]
        },
    }


# Rules across the parameters of a body (a query string cannot carry them).
BODY_RULES: Mapping[str, Schema] = {
    "ExportMeetings": {"allOf": [_custom_needs_both_ends(), _csv_needs_a_column()]}
}


# Parameters the gateway reads itself (no request field carries them), by RPC, as
# components/parameters entries (referenced from the query) and body properties.
_FORMAT_DESCRIPTION = (
    "The export's format; it wins over `Accept`. Without it, `Accept` chooses: "
    "`text/csv`, `application/x-ndjson` (or `application/ndjson`), and JSON for "
    "`application/json`, `*/*`, no Accept, or an Accept that allows none of them (never a "
    "406: legacy clients send all sorts). Any other value is a 400 naming the accepted ones."
)
GATEWAY_PARAMETERS: Mapping[str, Mapping[str, Schema]] = {
    "ExportMeetings": {
        "ExportFormat": {
            "name": "format",
            "in": "query",
            "required": False,
            "description": _FORMAT_DESCRIPTION,
            "schema": {**tolerant_enum(list(FORMATS), any_case=True), "default": "json"},
        }
    }
}


def request_body(route: Route) -> Schema:
    name = route.rpc_name
    encoding = {
        legacy_name(field) + "[]": {"style": "form", "explode": True}
        for field in _legacy_fields(route)
        if field.is_repeated
    }
    form: Schema = {"schema": _ref(f"{name}Form")}
    if encoding:
        form["encoding"] = encoding
    return {
        "required": False,
        "description": "The parameters as a JSON object, or as a form. Body values replace "
        "query values of the same name.",
        "content": {
            "application/json": {"schema": _ref(f"{name}Body")},
            "application/x-www-form-urlencoded": form,
        },
    }


# --- the legacy response shapes --------------------------------------------------------------


def error_schema() -> Schema:
    return {
        "type": "object",
        "description": 'Every error answers {"error": "<message>"}.',
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "additionalProperties": False,
    }


def token_schema() -> Schema:
    # The legacy body holds the token only (the RPC also returns the organization and expiry).
    token = pb.AuthenticateResponse.DESCRIPTOR.fields_by_name["token"]
    return {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {
                **value_schema(token),
                "description": "A JWT (HS256) for `Authorization: Bearer <token>`, valid 24 hours.",
            }
        },
        "additionalProperties": False,
    }


def message_schema(
    message: descriptor.Descriptor, *, nullable: Callable[[descriptor.FieldDescriptor], bool]
) -> Schema:
    """An object with every field of `message` under its proto name, each always present."""
    return {
        "type": "object",
        "required": [field.name for field in message.fields],
        "properties": {
            field.name: _nullable(field_schema(field)) if nullable(field) else field_schema(field)
            for field in message.fields
        },
        "additionalProperties": False,
    }


# The legacy JSON key of an export column, where it is not the column's key.
EXPORT_KEY_RENAMES: Mapping[str, str] = {"group_leader_id": "group_leader"}
# Integer columns the store may hold unset; every string column may be null too (the spec:
# "strings or null"), while duration, start_time, price (0 when unset) and the flags never are.
_EXPORT_NULLABLE_NUMBERS = frozenset({"max_attendees", "group_leader_id"})


def export_columns() -> list[str]:
    """The 18 column keys partners send, in the proto's order."""
    return legacy_enum_values(pb.ExportColumn.DESCRIPTOR)


def exported_meeting_schema() -> Schema:
    """One export row: exactly the requested columns, so no key is required."""
    fields = pb.ExportedMeeting.DESCRIPTOR.fields_by_name
    properties: Schema = {}
    for column in export_columns():
        field = fields[column]  # each column has the row field of the same name
        schema = value_schema(field)
        if field.type == FD.TYPE_STRING or column in _EXPORT_NULLABLE_NUMBERS:
            schema = _nullable(schema)
        properties[EXPORT_KEY_RENAMES.get(column, column)] = schema
    return {
        "type": "object",
        "description": "Exactly the requested known columns, in the order requested; "
        "group_leader_id comes back as group_leader.",
        "properties": properties,
        "additionalProperties": False,
    }


def page_metadata_schema() -> Schema:
    return message_schema(pb.PageMetadata.DESCRIPTOR, nullable=lambda field: False)


def export_result_schema(*, paginated: bool) -> Schema:
    properties: Schema = {"success": {"const": True}}
    if paginated:
        properties["metadata"] = _ref("PageMetadata")
    properties["meetings"] = {"type": "array", "items": _ref("ExportedMeeting")}
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _upcoming_nullable(field: descriptor.FieldDescriptor) -> bool:
    # Unset optional fields and a missing leader print null; a stored meeting always has
    # its start and end.
    return bool(field.has_presence) and _message_name(field) != "google.protobuf.Timestamp"


def upcoming_meeting_schema() -> Schema:
    return message_schema(pb.UpcomingMeeting.DESCRIPTOR, nullable=_upcoming_nullable)


def group_leader_schema() -> Schema:
    schema = message_schema(pb.GroupLeader.DESCRIPTOR, nullable=lambda field: False)
    schema["properties"]["name"]["description"] = 'First name and last initial ("Jane D.").'
    schema["properties"]["avatar"] |= {
        "format": "uri",
        "description": "Thumbnail URL, or the default avatar when the leader has none.",
    }
    return schema


def upcoming_page_schema() -> Schema:
    return message_schema(pb.ListUpcomingMeetingsResponse.DESCRIPTOR, nullable=lambda f: False)


# --- examples from the legacy pages ----------------------------------------------------------

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


# --- operations: one legacy shape per RPC ----------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    """A status code an RPC answers with, and when (the HTTP status comes from the table)."""

    code: grpc.StatusCode
    when: str
    example: str | None = None
    retry_after: bool = False  # the answer may carry a Retry-After header


@dataclass(frozen=True)
class LegacyOperation:
    """What the legacy page of an RPC documents beyond its route."""

    tag: str
    summary: str
    description: str
    success: Callable[[], Schema]  # the 200 response object
    errors: tuple[ErrorCase, ...]
    authenticated: bool = True


_UNAVAILABLE = ErrorCase(
    C.UNAVAILABLE,
    "the database or the gRPC backend cannot be reached",
    "Service unavailable; try again shortly",
)
_DEADLINE = ErrorCase(C.DEADLINE_EXCEEDED, "the request took too long and was stopped")
_TOKEN_ERRORS = (
    ErrorCase(
        C.UNAUTHENTICATED,
        "the bearer token is missing, malformed, badly signed, expired, or names an "
        "organization that does not exist",
        "Unauthorized Access",
    ),
    ErrorCase(
        C.PERMISSION_DENIED,
        "the token is for another organization than the one in the URL",
        "Not Authorized",
    ),
)


def _success(description: str, schema: Schema, examples: Mapping[str, Any]) -> Callable[[], Schema]:
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


def _example_columns() -> list[str]:
    keys = {JSON_KEYS.get(column, column): column for column in COLUMN_LABELS}
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


def export_success() -> Schema:
    """The export's 200: legacy JSON, or CSV, or NDJSON; the headers that may come with it."""
    response = _success(
        "The meetings; with metadata when paginated (in headers for CSV and NDJSON).",
        {"oneOf": [_ref("ExportMeetingsResult"), _ref("ExportMeetingsPage")]},
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
                "column labels in the requested order (Name, Meeting Type, ..., Wait List), "
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


LEGACY_OPERATIONS: Mapping[str, LegacyOperation] = {
    "Authenticate": LegacyOperation(
        tag="Authentication",
        summary="Exchange an access key for a bearer token",
        description="The token names the organization and expires 24 hours after issue; "
        "rotating the access key revokes it. `access_key` may also come in the query string.",
        success=_success(
            "The token.",
            _ref("Token"),
            {"token": {"value": {"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI1In0.c2lnbmF0dXJl"}}},
        ),
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "the body is neither JSON nor a form, or a timeout header is malformed",
                "Request body must be a JSON object or a form",
            ),
            ErrorCase(
                C.UNAUTHENTICATED, "the access key is wrong or missing", "Invalid Access Key"
            ),
            ErrorCase(
                C.RESOURCE_EXHAUSTED,
                "this client failed too often: try again after Retry-After seconds",
                "Too many failed attempts; try again in 6 seconds",
                retry_after=True,
            ),
            ErrorCase(C.INTERNAL, "an unexpected error (the message carries a request id)"),
            _UNAVAILABLE,
            _DEADLINE,
        ),
        authenticated=False,
    ),
    "ExportMeetings": LegacyOperation(
        tag="Meetings",
        summary="Export meetings: your columns, any date range",
        description="The meetings catalogue as stored, one object per meeting with exactly the "
        "requested columns. Without `page`/`per_page` every matching meeting comes in one "
        "response, streamed as it is read (ordered by start_time, then id); a stream that "
        "fails after the 200 was sent ends without its closing brackets, so a truncated "
        "export never parses as JSON. GET and POST are equivalent; POST takes the same "
        "names as a JSON object or a form.\n\n"
        "**Formats.** `format=csv|ndjson|json` (query or body) or `Accept` choose JSON (the "
        "default), CSV (a header row of the column labels, RFC 4180, UTF-8 with a byte order "
        "mark) or NDJSON (one JSON object per line, the same bytes as in the JSON export). "
        "CSV and NDJSON stream like JSON; paginated, they hold the page's rows and the "
        "metadata comes in `X-Page`, `X-Per-Page`, `X-Total-Pages`, `X-Total-Count` (and a "
        "`Link` header on GET). A CSV or NDJSON stream that fails after the 200 ends without "
        "the final chunk of the chunked body: HTTP clients report the truncation.\n\n"
        "**Compression.** With `Accept-Encoding: gzip` every format comes gzipped, still "
        "streamed (flushed batch by batch).",
        success=export_success,
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "a parameter is invalid (reporting_days, report_type, format, a date not in "
                "MM/DD/YYYY HH:MM AM/PM or not on the calendar, custom without both dates, "
                "CSV or NDJSON without a known column, a "
                "page that is not an integer, a body that is neither JSON nor a form, a "
                "timeout header that is malformed)",
                "Invalid reporting_days: accepted values are all, all_past, all_upcoming, "
                "today, current_month, last_week, last_month, custom",
            ),
            ErrorCase(
                C.INTERNAL,
                "an unexpected error: the message says what failed and carries a request id "
                "(also in the logs), never internals",
            ),
            *_TOKEN_ERRORS,
            _UNAVAILABLE,
            _DEADLINE,
        ),
    ),
    "ListUpcomingMeetings": LegacyOperation(
        tag="Meetings",
        summary="List upcoming meetings: the display feed",
        description="One page of the meetings that have not ended and are neither cancelled "
        "nor complete (a meeting in progress is listed), ordered by start_time, then id. "
        "Each meeting has every key, null where unset.",
        success=_success(
            "One page of upcoming meetings.",
            _ref("UpcomingMeetingsPage"),
            {"page": {"value": UPCOMING_EXAMPLE}},
        ),
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "meeting_series_id is not a positive integer, page/items is not an integer, "
                "or a timeout header is malformed",
                "Parameter meeting_series_id must be a positive integer",
            ),
            *_TOKEN_ERRORS,
            ErrorCase(C.INTERNAL, "an unexpected error (the message carries a request id)"),
            _UNAVAILABLE,
            _DEADLINE,
        ),
    ),
}


# Request headers the gateway reads on every operation, as components/parameters entries.
HEADER_PARAMETERS: Mapping[str, Schema] = {
    "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "Your id for this request: echoed on the response and written in the "
        "service's logs when it is up to 128 letters, digits and `-_.:`; any other value is "
        "replaced by a generated id (never refused).",
        "schema": {"type": "string"},
    },
    "RequestTimeout": {
        "name": TIMEOUT_HEADER,
        "in": "header",
        "required": False,
        "description": "How long the service may take, in seconds (up to 7 digits, up to 6 "
        f"decimals), above 0 and at most {MAX_TIMEOUT_SECONDS:g}; past it the answer is a 504. "
        "Without it (or Grpc-Timeout) a request gets the gateway's timeout (30 s by default) "
        "and an unpaginated export none. Anything else is refused like a bad parameter.",
        "schema": {"type": "string", "pattern": TIMEOUT_SECONDS_PATTERN, "examples": ["2.5"]},
    },
    "GrpcTimeout": {
        "name": GRPC_TIMEOUT_HEADER,
        "in": "header",
        "required": False,
        "description": "The same deadline in gRPC's form: up to 8 digits and a unit (`H` hours, "
        "`M` minutes, `S` seconds, `m` milli-, `u` micro-, `n` nanoseconds), above 0 and at "
        f"most {MAX_TIMEOUT_SECONDS:g} s. Ignored (whatever it holds) when {TIMEOUT_HEADER} "
        "is given.",
        "schema": {"type": "string", "pattern": GRPC_TIMEOUT_PATTERN, "examples": ["2500m"]},
    },
}


def _gateway_error(description: str, example: str) -> Callable[[], Schema]:
    def build() -> Schema:
        return {
            "description": description,
            "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"}},
            "content": {
                "application/json": {
                    "schema": _ref("Error"),
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
        media: Schema = {"schema": _ref("Error")}
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


def _operation_id(route: Route, routes: list[Route]) -> str:
    # An RPC with several bindings (GET and POST export) gets one id per method.
    siblings = [r for r in routes if r.rpc_name == route.rpc_name]
    if len(siblings) == 1:
        return _lower_camel(route.rpc_name)
    return _lower_camel(route.rpc_name) + route.http_method.title()


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def operation(route: Route, routes: list[Route]) -> Schema:
    try:
        legacy = LEGACY_OPERATIONS[route.rpc_name]
    except KeyError:
        raise LookupError(
            f"{route.rpc_name} has an HTTP route but no legacy shape in gateway.openapi"
        ) from None
    parameters = path_parameters(route)
    if not route.body:
        # A body route takes its parameters (the gateway's own too) in the body, whose values
        # replace the query's: a query parameter there is not one the document can promise.
        parameters += query_parameters(route)
        parameters += [
            {"$ref": f"#/components/parameters/{name}"}
            for name in GATEWAY_PARAMETERS.get(route.rpc_name, {})
        ]
    parameters += [{"$ref": f"#/components/parameters/{name}"} for name in HEADER_PARAMETERS]
    result: Schema = {
        "operationId": _operation_id(route, routes),
        "tags": [legacy.tag],
        "summary": legacy.summary,
        "description": legacy.description,
        "parameters": parameters,
    }
    if route.body:
        result["requestBody"] = request_body(route)
    responses = {
        **error_responses(route.rpc_name, legacy.errors),
        **{str(status): response() for status, response in GATEWAY_ERRORS.items()},
    }
    result["responses"] = {"200": legacy.success(), **dict(sorted(responses.items()))}
    if not legacy.authenticated:
        result["security"] = []
    return result


def component_schemas(routes: list[Route]) -> dict[str, Schema]:
    schemas: dict[str, Schema] = {
        "Error": error_schema(),
        "Token": token_schema(),
        "ExportedMeeting": exported_meeting_schema(),
        "PageMetadata": page_metadata_schema(),
        "ExportMeetingsResult": export_result_schema(paginated=False),
        "ExportMeetingsPage": export_result_schema(paginated=True),
        "UpcomingMeeting": upcoming_meeting_schema(),
        "GroupLeader": group_leader_schema(),
        "UpcomingMeetingsPage": upcoming_page_schema(),
    }
    for route in routes:
        if route.body:
            schemas[f"{route.rpc_name}Body"] = body_schema(route, form=False)
            schemas[f"{route.rpc_name}Form"] = body_schema(route, form=True)
    return schemas


def _api_version() -> str:
    try:
        return metadata.version("meetings-api")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every annotated route, built afresh from the descriptor."""
    routes = service_routes()
    paths: dict[str, Schema] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.http_method.lower()] = operation(route, routes)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Meetings API",
            "version": _api_version(),
            "summary": "An organization's meetings: export and upcoming feed.",
            "description": "The REST/JSON API for partners: the legacy URLs, parameters and JSON "
            "shapes. Get a token from `POST /api/v2/authenticate`, then send "
            "`Authorization: Bearer <token>` (a bare token is accepted too). Every response "
            "carries `X-Request-Id`: yours when you sent one, otherwise a generated one; quote "
            'it when reporting a problem. Every error body is `{"error": "<message>"}`.',
        },
        "tags": [
            {"name": "Authentication", "description": "Access keys for bearer tokens."},
            {"name": "Meetings", "description": "Your organization's meetings."},
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The token from POST /api/v2/authenticate.",
                }
            },
            "parameters": {
                **HEADER_PARAMETERS,
                **{
                    name: parameter
                    for parameters in GATEWAY_PARAMETERS.values()
                    for name, parameter in parameters.items()
                },
            },
            "headers": {
                "RequestId": {
                    "description": "The request's id: the caller's, or a generated one.",
                    "schema": {"type": "string"},
                },
                "RetryAfter": {
                    "description": "Whole seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1},
                },
                **EXPORT_HEADERS,
            },
            "schemas": component_schemas(routes),
        },
    }


@cache
def openapi_bytes() -> bytes:
    """The document as served: the descriptor does not change while the process runs."""
    return orjson.dumps(build_openapi())


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(
        body=openapi_bytes(),
        content_type="application/json",
        headers={"Cache-Control": "no-cache"},
    )


def add_openapi_routes(app: web.Application) -> None:
    """Serve the document at GET /openapi.json."""
    app.router.add_get(OPENAPI_PATH, openapi_json)
