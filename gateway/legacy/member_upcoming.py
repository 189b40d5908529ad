"""GET /api/v2/organizations/{organization_id}/members/{idp_id}/upcoming_meetings: one
member's upcoming schedule, in the legacy shape of the display feed."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from gateway.calls import Call
from gateway.legacy.enum_options import legacy_name
from gateway.legacy.json import json_body_response
from gateway.legacy.upcoming import legacy_time, shape, shape_meeting
from gateway.params import INT32_MAX, NO_HEADERS, Headers, Params, blank, parse_int
from heypeers.meetings.v1 import meetings_service_pb2 as pb

_LOGGER = logging.getLogger(__name__)

# The feed's key a member's meeting leaves out.
LEFT_OUT_KEY = "meeting_series_id"


# `waiting_status` of each registration state: null for a place held, else the state's legacy
# name ("waitlisted"), as the contract writes it.
WAITING_STATUS = {
    pb.REGISTRATION_STATE_REGISTERED: None,
    pb.REGISTRATION_STATE_WAITLISTED: legacy_name(
        pb.RegistrationState.DESCRIPTOR.values_by_number[pb.REGISTRATION_STATE_WAITLISTED]
    ),
}


def bind(
    request: pb.ListMemberUpcomingMeetingsRequest, params: Params, headers: Headers = NO_HEADERS
) -> pb.ListMemberUpcomingMeetingsRequest:
    for field, name in (("page", "page"), ("page_size", "items")):
        value = params.last(name)
        if not blank(value):
            message = f"Parameter {name} must be an integer"
            setattr(request, field, parse_int(value, field=name, message=message, limit=INT32_MAX))
    return request


def shape_member_meeting(member_meeting: pb.MemberUpcomingMeeting) -> dict[str, Any]:
    """One meeting with exactly the page's keys, in the page's order: the feed's keys but
    meeting_series_id, then the member's registration."""
    shaped = shape_meeting(member_meeting.meeting)
    del shaped[LEFT_OUT_KEY]
    state = member_meeting.registration_state
    shaped["waiting_status"] = WAITING_STATUS.get(state)
    shaped["registered"] = state == pb.REGISTRATION_STATE_REGISTERED
    shaped["registered_at"] = (
        legacy_time(member_meeting.registered_at)
        if member_meeting.HasField("registered_at")
        else None
    )
    return shaped


async def respond(call: Call, request: pb.ListMemberUpcomingMeetingsRequest) -> web.StreamResponse:
    response: pb.ListMemberUpcomingMeetingsResponse = await call.unary(
        "ListMemberUpcomingMeetings", request
    )
    return json_body_response(orjson.dumps(shape(response, shape_member_meeting)))
