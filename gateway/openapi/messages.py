"""The legacy response shapes: the components/schemas of tokens, meetings, pages, errors."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf import descriptor

from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.openapi.values import (
    Schema,
    field_schema,
    message_name,
    or_null,
    ref,
    value_schema,
)
from heypeers.meetings.v1 import meetings_service_pb2 as pb


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
            field.name: or_null(field_schema(field)) if nullable(field) else field_schema(field)
            for field in message.fields
        },
        "additionalProperties": False,
    }


def exported_meeting_schema() -> Schema:
    """One export row: exactly the requested columns, so no key is required."""
    fields = pb.ExportedMeeting.DESCRIPTOR.fields_by_name
    properties: Schema = {}
    for column in EXPORT_COLUMNS:
        schema = value_schema(fields[column.key])  # each column has the row field of its name
        properties[column.json_key] = or_null(schema) if column.nullable else schema
    renames = "; ".join(
        f"{column.key} comes back as {column.json_key}"
        for column in EXPORT_COLUMNS
        if column.json_key != column.key
    )
    return {
        "type": "object",
        "description": f"Exactly the requested known columns, in the order requested; {renames}.",
        "properties": properties,
        "additionalProperties": False,
    }


def page_metadata_schema() -> Schema:
    return message_schema(pb.PageMetadata.DESCRIPTOR, nullable=lambda field: False)


def export_result_schema(*, paginated: bool) -> Schema:
    properties: Schema = {"success": {"const": True}}
    if paginated:
        properties["metadata"] = ref("PageMetadata")
    properties["meetings"] = {"type": "array", "items": ref("ExportedMeeting")}
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _upcoming_nullable(field: descriptor.FieldDescriptor) -> bool:
    # Unset optional fields and a missing leader print null; a stored meeting always has
    # its start and end.
    return bool(field.has_presence) and message_name(field) != "google.protobuf.Timestamp"


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
