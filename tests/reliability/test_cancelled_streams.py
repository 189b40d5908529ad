"""A client that leaves an export mid-stream (its deadline ran out, it cancelled, it hung up)
is not an error of the service: neither grpcio, nor the server, nor the gateway logs an ERROR
or a traceback for it. Each test cancels many streams of an export big enough to be cut in
the middle, in bounded time, and reads every record logged meanwhile."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import orjson
import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import SERVICE_NAME
from server.metrics import ACTIVE_STREAMS
from store.loader import load_fixture
from tests.export.conftest import (
    EXPORT_URL,
    ORG_ID,
    document,
    grpc_token,
    many_meetings,
    rest_headers,
)

# Enough rows for a few dozen batches, so a cancel lands mid-stream, not after the end, and
# wide enough (about 20 MB) that a body cannot all sit in the socket buffers of loopback.
ROWS = 60_001
DESCRIPTION_WIDTH = 300
CANCELS = 60
COLUMNS = [pb.EXPORT_COLUMN_NAME, pb.EXPORT_COLUMN_START_TIME, pb.EXPORT_COLUMN_MEETING_DESCRIPTION]
QUERY = [("column[]", "name"), ("column[]", "start_time"), ("column[]", "meeting_description")]
# The deadlines (seconds) the issue reproduced it with, and a few around them.
DEADLINES = (0.008, 0.012, 0.02, 0.03, 0.05)
SETTLE_SECONDS = 30.0


@pytest.fixture
def big_export(db: peewee.Database) -> None:
    load_fixture(document([]))
    many_meetings(db, ROWS, description_width=DESCRIPTION_WIDTH)


def _active_streams() -> float:
    return float(ACTIVE_STREAMS.labels(SERVICE_NAME, "StreamExportMeetings")._value.get())


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record at ERROR or above, and every record carrying a traceback."""
    return [
        f"{record.name} {record.levelname}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info or record.exc_text
    ]


def _settle(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def _cancel_one(
    stub: pb_grpc.MeetingsServiceStub, metadata: list[tuple[str, str]], index: int
) -> None:
    """One stream, ended by the client: by a short deadline, or by cancelling after a few
    messages (each first message is the empty one that says the read has started)."""
    request = pb.StreamExportMeetingsRequest(organization_id=ORG_ID, columns=COLUMNS)
    deadline = DEADLINES[index % len(DEADLINES)]
    cancel_after = None if index % 3 else 1 + index % 4
    call = stub.StreamExportMeetings(
        request, metadata=metadata, timeout=deadline if cancel_after is None else 30
    )
    rows = 0
    try:
        for number, message in enumerate(call):
            rows += message.row_count
            if number == cancel_after:
                call.cancel()
                return
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
        return
    # A stream that ends without an error is the whole export, never one cut by its deadline.
    assert rows == ROWS


@pytest.mark.usefixtures("big_export")
def test_grpc_streams_cancelled_mid_export_log_no_error(
    stub: pb_grpc.MeetingsServiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    metadata = grpc_token(stub)
    streams_before = _active_streams()
    for index in range(CANCELS):
        _cancel_one(stub, metadata, index)
    # What a cancelled stream logs, it logs by the time its RPC is over on the server.
    _settle(lambda: _active_streams() <= streams_before)
    assert _active_streams() <= streams_before, "a cancelled stream never ended"
    time.sleep(0.2)
    assert not _errors(caplog)
    # The service's own line for a client that left is still there, below ERROR.
    assert any(
        "StreamExportMeetings" in record.getMessage() and record.levelno < logging.ERROR
        for record in caplog.records
    )


@pytest.mark.usefixtures("big_export")
async def test_rest_exports_whose_client_leaves_log_no_error(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    headers = await rest_headers(gateway)
    streams_before = _active_streams()
    for index in range(CANCELS):
        if index % 2:
            # The client's own deadline, passed on to the RPC, runs out mid-export.
            timeout = {"X-Request-Timeout": f"{DEADLINES[index % len(DEADLINES)] * 4:.3f}"}
            response = await gateway.get(EXPORT_URL, params=QUERY, headers=headers | timeout)
            if response.status == 200:
                try:
                    body = await response.read()
                except aiohttp.ClientPayloadError:
                    pass  # cut short, and visibly so: the point
                else:
                    # A body that ends cleanly is the whole export, never a cut one.
                    assert len(orjson.loads(body)["meetings"]) == ROWS
            else:
                assert response.status == 504
        else:
            # The client hangs up after the first rows.
            response = await gateway.get(EXPORT_URL, params=QUERY, headers=headers)
            assert response.status == 200
            assert await response.content.readany()
        response.close()
    deadline = time.monotonic() + SETTLE_SECONDS
    while _active_streams() > streams_before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert not _errors(caplog)
    messages = [r.getMessage() for r in caplog.records if r.name == "meetings.gateway"]
    assert any("ended by the client's deadline" in m for m in messages)
    assert any("client went away" in m for m in messages)
