"""ListUpcomingMeetings: validate, ask the store for one page, build typed meetings."""

from __future__ import annotations

import grpc

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.config import Clock
from server.errors import Unimplemented


def list_upcoming_meetings(
    request: pb.ListUpcomingMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> pb.ListUpcomingMeetingsResponse:
    raise Unimplemented("ListUpcomingMeetings is not implemented yet")
