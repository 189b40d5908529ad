"""ExportMeetings and StreamExportMeetings: validate, ask the store, build typed or JSON rows."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.config import Clock
from server.errors import Unimplemented


def export_meetings(
    request: pb.ExportMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> pb.ExportMeetingsResponse:
    raise Unimplemented("ExportMeetings is not implemented yet")


def stream_export_meetings(
    request: pb.StreamExportMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> Iterator[pb.StreamExportMeetingsResponse]:
    raise Unimplemented("StreamExportMeetings is not implemented yet")
    yield pb.StreamExportMeetingsResponse()  # pragma: no cover
