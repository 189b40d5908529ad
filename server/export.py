"""ExportMeetings and StreamExportMeetings: check the request at one `now`, ask the store, and
send the rows typed or as legacy JSON.

The stream's hot path: a database cursor read BATCH_ROWS rows at a time -> one batch joined
or encoded at once -> one message. JSON rows come out of the database already written (one
bytes object per row), so a JSON batch costs one join. Only the batch in hand is held in
memory, and the read stops (its cursor closed) as soon as the client cancels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import closing

import grpc
from google.rpc import code_pb2

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.config import Clock
from server.context import current_organization, request_id
from server.errors import ServiceError
from server.export_request import ExportPlan, plan_export
from server.export_rows import TypedRows, join_json_rows
from server.metrics import count_exported_rows
from store.export import Row, export_page, open_export

log = logging.getLogger("meetings.server")

# Rows per stream message: enough that per-message costs vanish, few enough that a message
# stays small (about 0.5 MB of JSON for typical rows).
BATCH_ROWS = 2000
# A batch of unusually wide rows is split until each message is at most this big, well under
# the server's 16 MiB send limit.
MAX_BATCH_BYTES = 4 * 1024 * 1024
# The unpaginated unary answer carries every row in one message, which must fit under the
# server's 16 MiB send limit with room for the envelope.
MAX_UNARY_BYTES = 12 * 1024 * 1024


class ExportTooLarge(ServiceError):
    code = code_pb2.RESOURCE_EXHAUSTED


TOO_LARGE_MESSAGE = (
    "The export is too large for one response: set page and page_size, or call StreamExportMeetings"
)


class _Encoder:
    """The rows of one plan as stream messages, splitting a batch that would be too big."""

    def __init__(self, plan: ExportPlan) -> None:
        self._typed = None if plan.json_rows else TypedRows(plan.columns)

    def messages(self, rows: Sequence[Row]) -> Iterator[pb.StreamExportMeetingsResponse]:
        if self._typed is None:
            yield from self._json_messages(rows)
            return
        assert self._typed is not None
        batch: list[pb.ExportedMeeting] = []
        size = 0
        for meeting in self._typed.build(rows):
            meeting_size = meeting.ByteSize()
            if batch and size + meeting_size > MAX_BATCH_BYTES:
                yield pb.StreamExportMeetingsResponse(meetings=batch, row_count=len(batch))
                batch, size = [], 0
            batch.append(meeting)
            size += meeting_size
        if batch:
            yield pb.StreamExportMeetingsResponse(meetings=batch, row_count=len(batch))

    def _json_messages(self, rows: Sequence[Row]) -> Iterator[pb.StreamExportMeetingsResponse]:
        payload = join_json_rows(rows)
        if len(payload) > MAX_BATCH_BYTES and len(rows) > 1:
            half = len(rows) // 2
            yield from self._json_messages(rows[:half])
            yield from self._json_messages(rows[half:])
            return
        yield pb.StreamExportMeetingsResponse(json_meetings=payload, row_count=len(rows))


def export_meetings(
    request: pb.ExportMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> pb.ExportMeetingsResponse:
    plan = plan_export(request, current_organization(), clock())
    page = plan.page
    if not plan.columns:
        # As the legacy endpoint: no known column, no rows (and no metadata).
        return pb.ExportMeetingsResponse()
    if page is None:
        return _whole_export(plan)
    total, rows = export_page(
        plan.filter,
        plan.columns,
        offset=page.offset,
        limit=page.size,
        json_rows=plan.json_rows,
    )
    response = pb.ExportMeetingsResponse(
        metadata=pb.PageMetadata(
            page=page.number,
            per_page=page.size,
            total_pages=-(-total // page.size),
            total_count=total,
        )
    )
    if plan.json_rows:
        response.json_meetings = join_json_rows(rows)
    else:
        response.meetings.extend(TypedRows(plan.columns).build(rows))
    count_exported_rows("ExportMeetings", len(rows))
    return response


def _whole_export(plan: ExportPlan) -> pb.ExportMeetingsResponse:
    """Every matching row in one message, read batch by batch; refused past MAX_UNARY_BYTES."""
    encoder = _Encoder(plan)
    response = pb.ExportMeetingsResponse()
    json_parts: list[bytes] = []
    size = 0
    with closing(
        open_export(plan.filter, plan.columns, BATCH_ROWS, json_rows=plan.json_rows)
    ) as reader:
        while rows := reader.fetch():
            for message in encoder.messages(rows):
                if message.json_meetings:
                    json_parts.append(message.json_meetings)
                response.meetings.extend(message.meetings)
                size += message.ByteSize()
                count_exported_rows("ExportMeetings", message.row_count)
            if size > MAX_UNARY_BYTES:
                raise ExportTooLarge(TOO_LARGE_MESSAGE)
    response.json_meetings = b",".join(json_parts)
    return response


def stream_export_meetings(
    request: pb.StreamExportMeetingsRequest, context: grpc.ServicerContext, clock: Clock
) -> Iterator[pb.StreamExportMeetingsResponse]:
    plan = plan_export(request, current_organization(), clock())
    if not plan.columns:
        return  # checked and authorized, but there is nothing to send
    encoder = _Encoder(plan)
    sent = 0
    with closing(
        open_export(plan.filter, plan.columns, BATCH_ROWS, json_rows=plan.json_rows)
    ) as reader:
        try:
            # An empty first message says the export is valid and under way, so the gateway
            # can send its 200 and headers before the first batch is even read.
            yield pb.StreamExportMeetingsResponse()
            # is_active() turns false when the client cancels or the deadline passes.
            while context.is_active():
                rows = reader.fetch()
                if not rows:
                    return
                for message in encoder.messages(rows):
                    yield message
                    sent += message.row_count
                    count_exported_rows("StreamExportMeetings", message.row_count)
            log.info("export stream cancelled request_id=%s rows_sent=%d", request_id.get(), sent)
        except GeneratorExit:
            # gRPC drops the stream of a cancelled RPC; closing the reader is what matters.
            log.info("export stream cancelled request_id=%s rows_sent=%d", request_id.get(), sent)
            raise
