"""Proto values as the legacy JSON writes them: enum spellings and the schema of a field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import descriptor

from gateway.legacy.enum_options import legacy_names
from gateway.openapi.patterns import LEGACY_DATETIME_PATTERN
from heypeers.meetings.v1 import meetings_service_pb2 as pb

Schema = dict[str, Any]
FD = descriptor.FieldDescriptor


def legacy_enum_values(enum: descriptor.EnumDescriptor) -> list[str]:
    """The legacy strings of an enum (each value's legacy_name option), UNSPECIFIED left out,
    as the gateway accepts them."""
    return list(legacy_names(enum))


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def or_null(schema: Schema) -> Schema:
    """`schema` or null (JSON Schema 2020-12 style: a type list, or a oneOf for a $ref)."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


INT64_TYPES = frozenset({FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64})
INT32_TYPES = frozenset({FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32, FD.TYPE_UINT32})

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
    "heypeers.meetings.v1.GroupLeader": lambda: ref("GroupLeader"),
    "heypeers.meetings.v1.UpcomingMeeting": lambda: ref("UpcomingMeeting"),
}


def message_name(field: descriptor.FieldDescriptor) -> str | None:
    return field.message_type.full_name if field.message_type is not None else None


def value_schema(field: descriptor.FieldDescriptor) -> Schema:
    """The legacy JSON schema of one (non-repeated) value of a proto field."""
    if field.type in INT64_TYPES:
        return {"type": "integer", "format": "int64"}
    if field.type in INT32_TYPES:
        return {"type": "integer", "format": "int32"}
    if field.type == FD.TYPE_STRING:
        return {"type": "string"}
    if field.type == FD.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return {"type": "number"}
    if field.enum_type is not None:
        return {"type": "string", "enum": legacy_enum_values(field.enum_type)}
    build = _MESSAGE_SCHEMAS.get(message_name(field) or "")
    if build is not None:
        return build()
    raise ValueError(f"{field.full_name}: no legacy JSON form for this field type")


def field_schema(field: descriptor.FieldDescriptor) -> Schema:
    if field.is_repeated:
        return {"type": "array", "items": value_schema(field)}
    return value_schema(field)


def export_columns() -> list[str]:
    """The 18 column keys partners send, in the proto's order."""
    return legacy_enum_values(pb.ExportColumn.DESCRIPTOR)
