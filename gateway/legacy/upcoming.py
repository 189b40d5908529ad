"""GET /api/v2/organizations/{organization_id}/upcoming_meetings: the display feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web
from google.protobuf import timestamp_pb2

from gateway.calls import Call
from gateway.legacy.json import json_body_response
from gateway.params import INT32_MAX, NO_HEADERS, Headers, Params, blank, parse_int
from heypeers.meetings.v1 import meetings_service_pb2 as pb

# The server words a present id below 1 the same way; the gateway covers values that are not
# integers at all, which cannot travel in the typed request.
SERIES_MESSAGE = "Parameter meeting_series_id must be a positive integer"
_EPOCH = datetime(1970, 1, 1)  # naive: the timestamps are UTC and print without an offset


def bind(
    request: pb.ListUpcomingMeetingsRequest, params: Params, headers: Headers = NO_HEADERS
) -> pb.ListUpcomingMeetingsRequest:
    series = params.last("meeting_series_id")
    if not blank(series):
        request.meeting_series_id = parse_int(
            series, field="meeting_series_id", message=SERIES_MESSAGE
        )
    for field, name in (("page", "page"), ("page_size", "items")):
        value = params.last(name)
        if not blank(value):
            message = f"Parameter {name} must be an integer"
            setattr(request, field, parse_int(value, field=name, message=message, limit=INT32_MAX))
    return request


def legacy_time(timestamp: timestamp_pb2.Timestamp) -> str:
    """ISO 8601 in UTC with milliseconds, as the legacy page writes: 2026-05-23T15:00:00.000Z."""
    # isoformat truncates to milliseconds (never rounds into the next second), and is about
    # twice as fast as strftime, which counts on a feed that prints two times per meeting.
    moment = _EPOCH + timedelta(seconds=timestamp.seconds, microseconds=timestamp.nanos // 1000)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _group_leader(meeting: pb.UpcomingMeeting) -> dict[str, Any] | None:
    if not meeting.HasField("group_leader"):
        return None
    leader = meeting.group_leader
    return {"id": leader.id, "name": leader.name, "avatar": leader.avatar}


def _optional(meeting: pb.UpcomingMeeting, field: str) -> Any:
    return getattr(meeting, field) if meeting.HasField(field) else None


def shape_meeting(meeting: pb.UpcomingMeeting) -> dict[str, Any]:
    """One meeting with exactly the page's keys, in the page's order; unset fields are null."""
    return {
        "id": meeting.id,
        "name": _optional(meeting, "name"),
        "start_time": legacy_time(meeting.start_time) if meeting.HasField("start_time") else None,
        "end_time": legacy_time(meeting.end_time) if meeting.HasField("end_time") else None,
        "duration": meeting.duration,
        "duration_in_minutes": meeting.duration_in_minutes,
        "topic": _optional(meeting, "topic"),
        "description": _optional(meeting, "description"),
        "location": _optional(meeting, "location"),
        "meeting_series_id": _optional(meeting, "meeting_series_id"),
        "max_attendees": _optional(meeting, "max_attendees"),
        "registered_attendees": meeting.registered_attendees,
        "group_leader": _group_leader(meeting),
    }


def shape(
    response: pb.ListUpcomingMeetingsResponse | pb.ListMemberUpcomingMeetingsResponse,
    shape_one: Callable[[Any], dict[str, Any]] = shape_meeting,
) -> dict[str, Any]:
    """The legacy document of one page (of the feed, or of a member's feed with its shaper)."""
    return {
        "current_page": response.current_page,
        "items": response.items,
        "total_items": response.total_items,
        "total_pages": response.total_pages,
        "meetings": [shape_one(meeting) for meeting in response.meetings],
    }


def render(response: pb.ListUpcomingMeetingsResponse) -> bytes:
    """The legacy JSON body of one page."""
    return _rendered(response.SerializeToString())


# Bodies by the page they render, as its wire bytes: a feed is polled, and the same page comes
# back from the server again and again. Shaping it cost ~20x serializing it to find the kept
# body (measured, page of 20); the body is a function of those bytes alone. 128 pages of the
# largest size (100 meetings, ~25 KB on the wire and ~50 KB of JSON) bound it near 10 MB.
@lru_cache(maxsize=128)
def _rendered(page: bytes) -> bytes:
    return orjson.dumps(shape(pb.ListUpcomingMeetingsResponse.FromString(page)))


async def respond(call: Call, request: pb.ListUpcomingMeetingsRequest) -> web.StreamResponse:
    response: pb.ListUpcomingMeetingsResponse = await call.unary("ListUpcomingMeetings", request)
    return json_body_response(render(response))
