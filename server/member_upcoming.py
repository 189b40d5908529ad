"""ListMemberUpcomingMeetings: validate, ask the store for one page of the member's upcoming
meetings, build typed meetings with the member's registration."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

import grpc
from google.protobuf import timestamp_pb2

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.config import Clock
from server.context import current_organization
from server.errors import InvalidArgument
from server.upcoming import paging_of, upcoming_meeting
from store.member_upcoming import MemberMeetingRow, member_upcoming_meetings_page
from store.models import MAX_IDP_ID_LENGTH
from store.organizations import organization_scope

_LOGGER = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 10
IDP_ID_MESSAGE = f"Parameter idp_id must be 1 to {MAX_IDP_ID_LENGTH} characters"
_STATES = {
    "registered": pb.REGISTRATION_STATE_REGISTERED,
    "waitlisted": pb.REGISTRATION_STATE_WAITLISTED,
}

# The typed meeting of a (row, registered) pair, kept for the meetings asked for again, as
# server.upcoming keeps the feed's: a member's schedule is polled by their portal.
_meeting = lru_cache(maxsize=1024)(upcoming_meeting)


def idp_id_of(request: pb.ListMemberUpcomingMeetingsRequest) -> str:
    """The member's idp_id; outside 1..255 characters it can name no member: INVALID_ARGUMENT."""
    if not 1 <= len(request.idp_id) <= MAX_IDP_ID_LENGTH:
        raise InvalidArgument.single("idp_id", IDP_ID_MESSAGE)
    return str(request.idp_id)


def list_member_upcoming_meetings(
    request: pb.ListMemberUpcomingMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> pb.ListMemberUpcomingMeetingsResponse:
    idp_id = idp_id_of(request)
    paging = paging_of(request, DEFAULT_PAGE_SIZE)
    organization = current_organization()
    result = member_upcoming_meetings_page(
        organization.id,
        idp_id,
        organization_scope(organization),
        clock(),  # read once: the whole page is cut at the same instant
        offset=paging.offset,
        limit=paging.page_size,
    )
    return pb.ListMemberUpcomingMeetingsResponse(
        current_page=paging.page,
        items=paging.page_size,
        total_items=result.total,
        total_pages=paging.total_pages(result.total),
        meetings=[member_meeting(row) for row in result.rows],
    )


def member_meeting(row: MemberMeetingRow) -> pb.MemberUpcomingMeeting:
    """The typed meeting of a stored row, with the member's registration."""
    return pb.MemberUpcomingMeeting(
        meeting=_meeting(row.meeting, row.registered_attendees),
        registration_state=_STATES[row.registration_status],
        registered_at=_timestamp(row.registered_at),
    )


def _timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)  # a naive datetime is read as UTC, as the store keeps it
    return stamp
