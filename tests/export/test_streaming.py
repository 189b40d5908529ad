"""The unpaginated export is streamed: read by a cursor in batches, sent as it is read, written
by the gateway in chunks; a client that goes away cancels the read; a failure after the 200
leaves a body that cannot pass for a complete export."""

from __future__ import annotations

import asyncio
import logging
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import orjson
import peewee
import pytest

from gateway.legacy import export as legacy_export
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server import export as server_export
from tests.export.conftest import (
    EXPORT_URL,
    ORG_ID,
    ReaderSpy,
    document,
    grpc_token,
    many_meetings,
    rest_headers,
)

QUERY = [("column[]", "name"), ("column[]", "start_time")]


@pytest.fixture
def organization_loaded(load: Callable[[dict[str, Any]], None]) -> None:
    load(document([]))


async def read_until(response: aiohttp.ClientResponse, marker: bytes) -> bytes:
    received = b""
    while marker not in received:
        chunk = await response.content.readany()
        assert chunk, "the body ended early"
        received += chunk
    return received


@pytest.mark.usefixtures("organization_loaded")
async def test_a_hundred_thousand_rows_stream_complete_in_order_and_chunked(
    gateway: Any, db: peewee.Database, reader_spy: ReaderSpy
) -> None:
    expected = many_meetings(db, 100_000)
    headers_seen, first_row_seen = threading.Event(), threading.Event()
    # The server may not read its first batch until the client has the headers, nor its
    # second until the client has the first row: an export buffered anywhere would stall.
    reader_spy.gates.update({1: headers_seen, 2: first_row_seen})

    response = await gateway.get(EXPORT_URL, params=QUERY, headers=await rest_headers(gateway))
    reader = reader_spy.last
    assert response.status == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert reader.rows_read == 0
    headers_seen.set()

    received = await read_until(response, b"},")
    assert reader.rows_read == server_export.BATCH_ROWS < 100_000
    first_row_seen.set()

    received += await response.content.read()
    body = orjson.loads(received)
    assert [int(row["name"][1:]) for row in body["meetings"]] == expected
    assert body["meetings"][0] == {
        "name": f"m{expected[0]}",
        "start_time": "2024-01-01T09:00:00.000Z",
    }
    assert reader.rows_read == 100_000
    assert reader.fetches == 100_000 // server_export.BATCH_ROWS + 1
    assert reader.closed.is_set() and not reader.gate_timed_out


@pytest.mark.usefixtures("organization_loaded")
def test_cancelling_the_grpc_stream_closes_the_cursor(
    stub: pb_grpc.MeetingsServiceStub,
    db: peewee.Database,
    reader_spy: ReaderSpy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many_meetings(db, 10_000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 500)
    cancelled = threading.Event()
    reader_spy.gates[3] = cancelled  # the third batch is read only once the client cancelled
    request = pb.StreamExportMeetingsRequest(
        organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME]
    )
    call = stub.StreamExportMeetings(request, metadata=grpc_token(stub))
    assert next(call).row_count == 0
    assert next(call).row_count == 500
    call.cancel()
    cancelled.set()
    reader = reader_spy.last
    assert reader.closed.wait(timeout=30), "the server kept its cursor open"
    assert reader.rows_read <= 3 * 500
    with pytest.raises(grpc.RpcError):
        list(call)


@pytest.mark.usefixtures("organization_loaded")
async def test_a_client_that_disconnects_cancels_the_servers_read(
    gateway: Any, db: peewee.Database, reader_spy: ReaderSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide rows (2 KB each), so that no buffer on the way can hold the rest of the export.
    total = 20_000
    many_meetings(db, total, description_width=2000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 200)
    gone = threading.Event()
    reader_spy.gates[3] = gone
    query = [*QUERY, ("column[]", "meeting_description")]
    response = await gateway.get(EXPORT_URL, params=query, headers=await rest_headers(gateway))
    await read_until(response, b"},")
    response.close()  # drops the connection mid-body
    gone.set()
    reader = reader_spy.last
    closed = await asyncio.to_thread(reader.closed.wait, 30)
    assert closed, "the server kept reading after the client went away"
    assert reader.rows_read < total


@pytest.mark.usefixtures("organization_loaded")
async def test_a_failure_mid_stream_leaves_a_truncated_body_and_logs_the_request_id(
    gateway: Any,
    db: peewee.Database,
    reader_spy: ReaderSpy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    many_meetings(db, 5000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 1000)
    reader_spy.fail_on_fetch = 3  # two batches go out, then the read fails
    caplog.set_level(logging.INFO)
    response = await gateway.get(EXPORT_URL, params=QUERY, headers=await rest_headers(gateway))
    assert response.status == 200
    request_id = response.headers["X-Request-Id"]
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    assert received.startswith(b'{"success":true,"meetings":[{"name":')
    assert received.count(b'{"name":') == 2000
    assert not received.endswith(b"]}")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(received)
    assert b"SELECT" not in received
    messages = [record.getMessage() for record in caplog.records]
    assert any("export stream failed" in m and request_id in m for m in messages)
    # A real failure stays an ERROR (a client leaving is only INFO).
    assert any(
        r.levelno == logging.ERROR and "export stream failed" in r.getMessage()
        for r in caplog.records
    )
    assert any("StreamExportMeetings" in m and request_id in m for m in messages)
    assert reader_spy.last.closed.is_set()


class _FailingWriter:
    """The real row writer, until it raises on its third batch of rows: a fault of the
    gateway's own."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.batches = 0

    def head(self) -> bytes:
        return bytes(self._writer.head())

    def rows(self, json_meetings: bytes) -> bytes:
        # The stream's first message, which only says the request was valid, holds no rows.
        self.batches += bool(json_meetings)
        if self.batches == 3:
            raise RuntimeError("the gateway failed while writing rows")
        return bytes(self._writer.rows(json_meetings))

    def tail(self) -> bytes:
        return bytes(self._writer.tail())


@pytest.mark.usefixtures("organization_loaded")
async def test_a_failure_in_the_gateway_mid_stream_leaves_a_truncated_body(
    gateway: Any,
    db: peewee.Database,
    reader_spy: ReaderSpy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    many_meetings(db, 5000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 1000)
    real_row_writer = legacy_export.row_writer
    monkeypatch.setattr(
        legacy_export, "row_writer", lambda *args: _FailingWriter(real_row_writer(*args))
    )
    caplog.set_level(logging.INFO)
    response = await gateway.get(EXPORT_URL, params=QUERY, headers=await rest_headers(gateway))
    assert response.status == 200
    request_id = response.headers["X-Request-Id"]
    received = b""
    # The connection ends inside the chunked body: no client takes it for a complete one.
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    assert received.startswith(b'{"success":true,"meetings":[{"name":')
    assert received.count(b'{"name":') == 2000
    assert not received.endswith(b"]}")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(received)
    assert b"RuntimeError" not in received
    messages = [record.getMessage() for record in caplog.records]
    assert any("failed in the gateway" in m and request_id in m for m in messages)
    # The server's read stops with the response.
    await asyncio.wait_for(asyncio.to_thread(reader_spy.last.closed.wait), 10)


@pytest.mark.usefixtures("organization_loaded")
async def test_memory_stays_flat_whatever_the_size_of_the_export(
    gateway: Any, db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20,000 rows of 2 KB: a 40 MB body, in batches of about 1 MB. Python's own allocations
    # (server, gateway, and this client, which drops each chunk) must stay at a few batches'
    # worth, nowhere near the size of the export.
    total = 20_000
    many_meetings(db, total, description_width=2000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 500)
    query = [*QUERY, ("column[]", "meeting_description")]
    headers = await rest_headers(gateway)
    tracemalloc.start()
    try:
        response = await gateway.get(EXPORT_URL, params=query, headers=headers)
        size = 0
        tail = b""
        async for chunk in response.content.iter_any():
            size += len(chunk)
            tail = (tail + chunk)[-2:]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 40_000_000 and tail == b"]}"
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB export"
