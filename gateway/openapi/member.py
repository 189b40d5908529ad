"""The OpenAPI of Member's Upcoming Meetings beyond its route and its operation's entry
(gateway.openapi.operations): its meetings are the feed's UpcomingMeeting schema without
meeting_series_id, plus the member's registration; its `idp_id` is the one string path
parameter, and its `items` defaults to 10, not the feed's 20.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from gateway.legacy.member_upcoming import LEFT_OUT_KEY, WAITING_STATUS
from gateway.openapi.messages import upcoming_meeting_schema, upcoming_page_schema
from gateway.openapi.responses import ErrorCase, success_response
from gateway.openapi.values import Schema, ref

RPC = "ListMemberUpcomingMeetings"
MEETING_SCHEMA = "MemberUpcomingMeeting"
PAGE_SCHEMA = "MemberUpcomingMeetingsPage"
C = grpc.StatusCode
# What the server applies (server.member_upcoming), as the page documents it.
DEFAULT_PAGE_SIZE = 10
MAX_IDP_ID_LENGTH = 255

IDP_ID_NOTE = (
    "The member's identity-provider (SSO) id in your organization, as you provisioned it: 1 to "
    f"{MAX_IDP_ID_LENGTH} characters, matched exactly (case included). Percent-encode it in "
    "the path: a `/` as `%2F`, a space as `%20`, non-ASCII as its UTF-8 bytes."
)
ITEMS_NOTE = "Page size, any integer, clamped to 1..100. Empty counts as absent."

EXAMPLE: Mapping[str, Any] = {
    "current_page": 1,
    "items": 10,
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
            "max_attendees": 12,
            "registered_attendees": 7,
            "group_leader": {
                "id": 4501,
                "name": "Jane D.",
                "avatar": "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png",
            },
            "waiting_status": None,
            "registered": True,
            "registered_at": "2026-05-20T18:42:11.000Z",
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
            "max_attendees": 20,
            "registered_attendees": 20,
            "group_leader": None,
            "waiting_status": "waitlisted",
            "registered": False,
            "registered_at": None,
        },
    ],
}


SUMMARY = "List a member's upcoming meetings: their personal schedule"
DESCRIPTION = (
    "One page of the upcoming meetings (the feed's rule and scope) that the member named by "
    "`idp_id` is registered or wait-listed for (not cancelled), ordered by start_time, then "
    "id. Each meeting has the feed's keys but meeting_series_id, then `waiting_status`, "
    "`registered` and `registered_at`; null where unset."
)
SUCCESS = success_response(
    "One page of the member's upcoming meetings.", ref(PAGE_SCHEMA), {"page": {"value": EXAMPLE}}
)
# The member-specific errors; the operation adds the token's and the service's own.
INVALID = ErrorCase(
    C.INVALID_ARGUMENT,
    f"page/items is not an integer, idp_id is longer than {MAX_IDP_ID_LENGTH} "
    "characters, or a timeout header is malformed",
    "Parameter page must be an integer",
)
NOT_FOUND = ErrorCase(
    C.NOT_FOUND,
    "no member of the organization has this idp_id (a member of another organization included)",
    "Member not found",
)


def component_schemas() -> dict[str, Schema]:
    """The member feed's page and meeting schemas, from the feed's meeting schema."""
    meeting = upcoming_meeting_schema()
    properties = {k: v for k, v in meeting["properties"].items() if k != LEFT_OUT_KEY}
    properties["waiting_status"] = {
        "enum": [None, *(name for name in WAITING_STATUS.values() if name)],
        "description": "null when the member holds a place; `waitlisted` on the wait list.",
    }
    properties["registered"] = {
        "type": "boolean",
        "description": "true when the member holds a place, false on the wait list.",
    }
    properties["registered_at"] = {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "When the member signed up (UTC, milliseconds); null when not recorded.",
    }
    # The feed's page: the same top-level fields (ListMemberUpcomingMeetingsResponse's).
    page = upcoming_page_schema()
    page["properties"]["meetings"] = {"type": "array", "items": ref(MEETING_SCHEMA)}
    return {
        MEETING_SCHEMA: {**meeting, "required": list(properties), "properties": properties},
        PAGE_SCHEMA: page,
    }


def amend_operation(operation: Schema) -> None:
    """The member feed's `idp_id` (a string path parameter) and `items` (default 10), which
    the generic builder would document as an organization id and as the feed's page size."""
    for parameter in operation["parameters"]:
        if parameter.get("name") == "idp_id" and parameter.get("in") == "path":
            parameter["description"] = IDP_ID_NOTE
            parameter["schema"] = {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_IDP_ID_LENGTH,
                "examples": ["auth0|demo-member-001"],
            }
        elif parameter.get("name") == "items" and parameter.get("in") == "query":
            parameter["description"] = ITEMS_NOTE
            parameter["schema"] = {**parameter["schema"], "default": DEFAULT_PAGE_SIZE}
