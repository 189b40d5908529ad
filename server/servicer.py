"""MeetingsService: one method per RPC, each handing over to the module of its endpoint, and
where each one runs (RUNS).

Authentication, the database connection and error mapping happen once, in the interceptor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import grpc
from google.protobuf import timestamp_pb2

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.auth import Authenticator
from server.config import Clock
from server.export import export_meetings, stream_export_meetings
from server.interceptors import (
    AUTHENTICATE,
    EXPORT_MEETINGS,
    LIST_MEMBER_UPCOMING_MEETINGS,
    LIST_UPCOMING_MEETINGS,
    STREAM_EXPORT_MEETINGS,
)
from server.member_upcoming import list_member_upcoming_meetings
from server.rpc_loop import Runs
from server.upcoming import list_upcoming_meetings

# Where each RPC runs when the database is in process (server.rpc_loop), by the method name the
# transport sees: a few reads on the server's loop; a whole export (every row in one answer,
# or a stream) on a thread.
RUNS: Mapping[str, Runs] = {
    AUTHENTICATE: Runs.ON_LOOP,
    EXPORT_MEETINGS: Runs.ON_LOOP_FOR_ONE_PAGE,
    STREAM_EXPORT_MEETINGS: Runs.ON_THREAD,
    LIST_UPCOMING_MEETINGS: Runs.ON_LOOP,
    LIST_MEMBER_UPCOMING_MEETINGS: Runs.ON_LOOP,
}


class MeetingsServicer(pb_grpc.MeetingsServiceServicer):  # type: ignore[misc]
    def __init__(self, authenticator: Authenticator, clock: Clock) -> None:
        self._auth = authenticator
        self._clock = clock

    def Authenticate(
        self, request: pb.AuthenticateRequest, context: grpc.ServicerContext
    ) -> pb.AuthenticateResponse:
        issued = self._auth.authenticate(request.access_key)
        expire_time = timestamp_pb2.Timestamp()
        expire_time.FromDatetime(issued.expires_at)
        return pb.AuthenticateResponse(
            token=issued.token, organization_id=issued.organization_id, expire_time=expire_time
        )

    def ExportMeetings(
        self, request: pb.ExportMeetingsRequest, context: grpc.ServicerContext
    ) -> pb.ExportMeetingsResponse:
        return export_meetings(request, context, self._clock)

    def StreamExportMeetings(
        self, request: pb.StreamExportMeetingsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.StreamExportMeetingsResponse]:
        return stream_export_meetings(request, context, self._clock)

    def ListUpcomingMeetings(
        self, request: pb.ListUpcomingMeetingsRequest, context: grpc.ServicerContext
    ) -> pb.ListUpcomingMeetingsResponse:
        return list_upcoming_meetings(request, context, self._clock)

    def ListMemberUpcomingMeetings(
        self, request: pb.ListMemberUpcomingMeetingsRequest, context: grpc.ServicerContext
    ) -> pb.ListMemberUpcomingMeetingsResponse:
        return list_member_upcoming_meetings(request, context, self._clock)
