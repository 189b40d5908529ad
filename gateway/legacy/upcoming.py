"""GET /api/v2/organizations/{organization_id}/upcoming_meetings: the display feed."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.calls import Call
from gateway.legacy.json import json_response
from gateway.params import INT32_MAX, Params, blank, parse_int
from heypeers.meetings.v1 import meetings_service_pb2 as pb

SERIES_MESSAGE = "Parameter meeting_series_id must be a positive integer"


def bind(request: pb.ListUpcomingMeetingsRequest, params: Params) -> None:
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


def shape(response: pb.ListUpcomingMeetingsResponse) -> dict[str, Any]:
    """The legacy document of one page (filled in with the feed)."""
    return {
        "current_page": response.current_page,
        "items": response.items,
        "total_items": response.total_items,
        "total_pages": response.total_pages,
        "meetings": [],
    }


async def respond(call: Call, request: pb.ListUpcomingMeetingsRequest) -> web.StreamResponse:
    response: pb.ListUpcomingMeetingsResponse = await call.unary("ListUpcomingMeetings", request)
    return json_response(shape(response))
