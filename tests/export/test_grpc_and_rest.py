"""The gRPC API and the REST gateway agree: typed rows, JSON rows, unary and stream give the same
meetings; typed rows set only the requested fields; the stream sends batches, not rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import orjson
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server import export as server_export
from tests.export.conftest import (
    ALL_COLUMNS,
    EXPORT_URL,
    ORG_ID,
    document,
    grpc_token,
    meeting,
    rest_headers,
    user,
)

BASE = datetime(2026, 2, 1, 12, tzinfo=UTC)
MEETINGS = [
    meeting(
        n,
        BASE + timedelta(hours=n // 3),
        name=None if n % 7 == 0 else f"Meeting {n}",
        price=[None, 10, "12.5", "0.05"][n % 4],
        group_leader_id=4501 if n % 2 else None,
        max_attendees=None if n % 5 == 0 else n,
        privacy=n % 2 == 0,
        eap=n % 3 == 0,
        special_focus=None if n % 2 else "Young Adults",
        status=["scheduled", "complete", "cancel"][n % 3],
    )
    for n in range(1, 41)
]
COLUMN_ENUMS = [getattr(pb, f"EXPORT_COLUMN_{c.upper()}") for c in ALL_COLUMNS]


def legacy_row(message: pb.ExportedMeeting, columns: list[str]) -> dict[str, Any]:
    """A typed row as the legacy JSON object, to compare with the gateway's."""
    row: dict[str, Any] = {}
    for column in columns:
        key = "group_leader" if column == "group_leader_id" else column
        if column == "start_time":
            row[key] = message.start_time.ToJsonString().replace("Z", ".000Z")
        elif column == "price":
            number = float(message.price.value)
            row[key] = int(number) if number.is_integer() else number
        elif message.HasField(column):
            row[key] = getattr(message, column)
        else:
            row[key] = None
    return row


@pytest.fixture
def loaded(load: Callable[[dict[str, Any]], None]) -> None:
    load(document(MEETINGS, users=[user(4501)]))


@pytest.mark.usefixtures("loaded")
async def test_grpc_typed_rows_and_rest_rows_are_the_same(
    gateway: Any, stub: pb_grpc.MeetingsServiceStub
) -> None:
    headers = await rest_headers(gateway)
    response = await gateway.get(
        EXPORT_URL, params=[("column[]", c) for c in ALL_COLUMNS], headers=headers
    )
    rest_rows = orjson.loads(await response.read())["meetings"]
    assert len(rest_rows) == 40
    request = pb.ExportMeetingsRequest(organization_id=ORG_ID, columns=COLUMN_ENUMS)
    unary = stub.ExportMeetings(request, metadata=grpc_token(stub))
    assert [legacy_row(m, list(ALL_COLUMNS)) for m in unary.meetings] == rest_rows
    stream_request = pb.StreamExportMeetingsRequest(organization_id=ORG_ID, columns=COLUMN_ENUMS)
    streamed = [
        m
        for batch in stub.StreamExportMeetings(stream_request, metadata=grpc_token(stub))
        for m in batch.meetings
    ]
    assert [legacy_row(m, list(ALL_COLUMNS)) for m in streamed] == rest_rows


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("paginated", [False, True])
async def test_grpc_json_rows_are_the_gateway_bytes(
    gateway: Any, stub: pb_grpc.MeetingsServiceStub, paginated: bool
) -> None:
    headers = await rest_headers(gateway)
    query = [("column[]", c) for c in ALL_COLUMNS]
    if paginated:
        query += [("page", "2"), ("per_page", "15")]
    response = await gateway.get(EXPORT_URL, params=query, headers=headers)
    rest = await response.read()
    request = pb.ExportMeetingsRequest(
        organization_id=ORG_ID, columns=COLUMN_ENUMS, row_encoding=pb.ROW_ENCODING_JSON
    )
    if paginated:
        request.page, request.page_size = 2, 15
    answer = stub.ExportMeetings(request, metadata=grpc_token(stub))
    assert not answer.meetings
    metadata = b""
    if paginated:
        metadata = b'"metadata":{"page":2,"per_page":15,"total_pages":3,"total_count":40},'
    assert rest == b'{"success":true,' + metadata + b'"meetings":[' + answer.json_meetings + b"]}"


@pytest.mark.usefixtures("loaded")
def test_typed_rows_set_only_the_requested_fields(stub: pb_grpc.MeetingsServiceStub) -> None:
    request = pb.ExportMeetingsRequest(
        organization_id=ORG_ID,
        columns=[pb.EXPORT_COLUMN_PRICE, pb.EXPORT_COLUMN_EAP, pb.EXPORT_COLUMN_GROUP_LEADER_ID],
    )
    rows = stub.ExportMeetings(request, metadata=grpc_token(stub)).meetings
    set_fields = {tuple(sorted(f.name for f, _ in row.ListFields())) for row in rows}
    # group_leader_id is unset where the meeting has none (proto3 optional: null).
    assert set_fields == {("eap", "group_leader_id", "price"), ("eap", "price")}
    assert rows[0].price.value == "10" and rows[1].price.value == "12.5"
    assert rows[3].price.value == "0"
    assert rows[2].price.value == "0.05"


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("encoding", [pb.ROW_ENCODING_TYPED, pb.ROW_ENCODING_JSON])
def test_the_stream_sends_batches_after_an_empty_first_message(
    stub: pb_grpc.MeetingsServiceStub, monkeypatch: pytest.MonkeyPatch, encoding: int
) -> None:
    monkeypatch.setattr(server_export, "BATCH_ROWS", 16)
    request = pb.StreamExportMeetingsRequest(
        organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME], row_encoding=encoding
    )
    messages = list(stub.StreamExportMeetings(request, metadata=grpc_token(stub)))
    assert [m.row_count for m in messages] == [0, 16, 16, 8]
    assert messages[0] == pb.StreamExportMeetingsResponse()
    if encoding == pb.ROW_ENCODING_JSON:
        rows = orjson.loads(b"[" + b",".join(m.json_meetings for m in messages[1:]) + b"]")
        assert all(not m.meetings for m in messages)
    else:
        rows = [
            {"name": m.name if m.HasField("name") else None} for b in messages for m in b.meetings
        ]
    assert len(rows) == 40 and rows[0] == {"name": "Meeting 1"} and rows[6] == {"name": None}


@pytest.mark.usefixtures("loaded")
def test_no_known_column_streams_nothing(stub: pb_grpc.MeetingsServiceStub) -> None:
    request = pb.StreamExportMeetingsRequest(organization_id=ORG_ID, columns=[0, 0, 99])
    assert list(stub.StreamExportMeetings(request, metadata=grpc_token(stub))) == []
    unary = stub.ExportMeetings(
        pb.ExportMeetingsRequest(organization_id=ORG_ID, page=1), metadata=grpc_token(stub)
    )
    assert unary == pb.ExportMeetingsResponse()


@pytest.mark.usefixtures("loaded")
def test_a_batch_of_wide_rows_is_split_to_fit_a_message(
    stub: pb_grpc.MeetingsServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_export, "MAX_BATCH_BYTES", 300)
    for encoding in (pb.ROW_ENCODING_TYPED, pb.ROW_ENCODING_JSON):
        request = pb.StreamExportMeetingsRequest(
            organization_id=ORG_ID, columns=COLUMN_ENUMS, row_encoding=encoding
        )
        messages = list(stub.StreamExportMeetings(request, metadata=grpc_token(stub)))
        assert sum(m.row_count for m in messages) == 40
        assert all(m.ByteSize() <= 600 for m in messages)
        assert len(messages) > 5


@pytest.mark.usefixtures("loaded")
def test_an_unpaginated_unary_answer_that_is_too_big_asks_for_pages(
    stub: pb_grpc.MeetingsServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_export, "MAX_UNARY_BYTES", 1000)
    request = pb.ExportMeetingsRequest(organization_id=ORG_ID, columns=COLUMN_ENUMS)
    with pytest.raises(grpc.RpcError) as raised:
        stub.ExportMeetings(request, metadata=grpc_token(stub))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "StreamExportMeetings" in (raised.value.details() or "")
