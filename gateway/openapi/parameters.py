"""Request parameters: path, query, body and header, as the gateway binds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import descriptor

from gateway.legacy.export_formats import CSV, FORMATS, NDJSON
from gateway.limits import GRPC_TIMEOUT_HEADER, MAX_TIMEOUT_SECONDS, TIMEOUT_HEADER
from gateway.openapi.patterns import (
    GRPC_TIMEOUT_PATTERN,
    INTEGER_STRING_PATTERN,
    POSITIVE_INTEGER_STRING_PATTERN,
    SPACE,
    TIMEOUT_SECONDS_PATTERN,
    blank_or,
    one_of_words,
)
from gateway.openapi.values import (
    INT32_TYPES,
    INT64_TYPES,
    Schema,
    export_columns,
    legacy_enum_values,
    ref,
    value_schema,
)
from gateway.params import INT64_MAX, MAX_VALUES_PER_PARAMETER
from gateway.routes import Route

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
                "pattern": blank_or(one_of_words(values, any_case=any_case), space=SPACE),
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
    if field.type in INT64_TYPES | INT32_TYPES:
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
    named = one_of_words([CSV.name, NDJSON.name], any_case=True)
    text_format: Schema = {"type": "string", "pattern": f"^{SPACE}*(?:{named}){SPACE}*$"}
    known: Schema = {"type": "string", "enum": export_columns()}
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
    form: Schema = {"schema": ref(f"{name}Form")}
    if encoding:
        form["encoding"] = encoding
    return {
        "required": False,
        "description": "The parameters as a JSON object, or as a form. Body values replace "
        "query values of the same name.",
        "content": {
            "application/json": {"schema": ref(f"{name}Body")},
            "application/x-www-form-urlencoded": form,
        },
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
