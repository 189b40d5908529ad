"""ListUpcomingMeetings over gRPC: the same data as the REST feed, typed, with presence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
import orjson
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from gateway.legacy.upcoming import shape
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.display import DEFAULT_AVATAR_URL
from tests.upcoming.conftest import (
    ACCESS_KEY,
    ORG_ID,
    Document,
    Feed,
    document,
    meeting,
    registration,
    series,
    user,
)
from tests.upcoming.test_golden import example_document

Load = Callable[[Document], None]
GrpcFeed = Callable[..., pb.ListUpcomingMeetingsResponse]
NULLABLE = ("name", "topic", "description", "location", "meeting_series_id", "max_attendees")


def request(**fields: Any) -> pb.ListUpcomingMeetingsRequest:
    return pb.ListUpcomingMeetingsRequest(organization_id=ORG_ID, **fields)


def test_a_full_meeting_is_typed(load: Load, grpc_feed: GrpcFeed) -> None:
    load(example_document())
    response = grpc_feed()
    assert (response.current_page, response.items, response.total_items) == (1, 20, 2)
    assert response.total_pages == 1
    first = response.meetings[0]
    assert first.id == 9123
    assert first.start_time.ToDatetime() == datetime(2026, 5, 23, 15)
    assert first.end_time.ToDatetime() == datetime(2026, 5, 23, 16)
    assert (first.duration, first.duration_in_minutes) == ("1 hour", 60)
    assert all(first.HasField(name) for name in NULLABLE)
    assert (first.meeting_series_id, first.max_attendees, first.registered_attendees) == (
        412,
        12,
        7,
    )
    assert first.HasField("group_leader")
    assert first.group_leader == pb.GroupLeader(
        id=4501,
        name="Jane D.",
        avatar="https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png",
    )
    second = response.meetings[1]
    assert not second.HasField("description") and not second.HasField("meeting_series_id")
    assert second.group_leader.avatar == DEFAULT_AVATAR_URL


def test_unset_fields_have_no_presence_and_zero_has(load: Load, grpc_feed: GrpcFeed) -> None:
    load(
        document(
            meetings=[
                meeting(
                    1,
                    name=None,
                    topic=None,
                    meeting_description=None,
                    location=None,
                    max_attendees=None,
                ),
                meeting(2, "2026-05-24T15:00:00+00:00", max_attendees=0, name=""),
            ]
        )
    )
    empty, zero = grpc_feed().meetings
    assert [name for name in NULLABLE if empty.HasField(name)] == []
    assert not empty.HasField("group_leader")
    assert zero.HasField("max_attendees") and zero.max_attendees == 0
    assert zero.HasField("name") and zero.name == ""


@pytest.mark.parametrize(
    ("fields", "page", "page_size"),
    [
        ({}, 1, 20),
        ({"page": 0}, 1, 20),
        ({"page": -4}, 1, 20),
        ({"page": 2}, 2, 20),
        ({"page_size": 0}, 1, 1),
        ({"page_size": -1}, 1, 1),
        ({"page_size": 7}, 1, 7),
        ({"page_size": 500}, 1, 100),
        ({"page_size": 2**31 - 1, "page": 2**31 - 1}, 2**31 - 1, 100),
    ],
)
def test_paging_defaults_and_clamps(
    load: Load, grpc_feed: GrpcFeed, fields: dict[str, int], page: int, page_size: int
) -> None:
    load(document(meetings=[meeting(n, f"2026-06-01T{n:02d}:00:00+00:00") for n in range(1, 4)]))
    response = grpc_feed(request(**fields))
    assert (response.current_page, response.items, response.total_items) == (page, page_size, 3)
    assert response.total_pages == -(-3 // page_size)


@pytest.mark.parametrize("series_id", [0, -3, -(2**63)])
def test_a_bad_series_id_is_invalid_argument_with_a_field_violation(
    load: Load, stub: pb_grpc.MeetingsServiceStub, series_id: int
) -> None:
    load(document())
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListUpcomingMeetings(
            request(meeting_series_id=series_id), metadata=[("authorization", token)]
        )
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None and status.code == code_pb2.INVALID_ARGUMENT
    assert status.message == "Parameter meeting_series_id must be a positive integer"
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("meeting_series_id", "Parameter meeting_series_id must be a positive integer")
    ]


def test_the_series_filter(load: Load, grpc_feed: GrpcFeed) -> None:
    load(
        document(
            meeting_series=[series(412)],
            meetings=[meeting(1, meeting_series_id=412), meeting(2)],
        )
    )
    assert [m.id for m in grpc_feed(request(meeting_series_id=412)).meetings] == [1]
    assert [m.id for m in grpc_feed(request(meeting_series_id=413)).meetings] == []


def grpc_fields(query: str) -> dict[str, int]:
    """The typed request fields of a legacy query string of integers."""
    pairs = [pair.split("=") for pair in query.split("&")] if query else []
    return {{"items": "page_size"}.get(name, name): int(value) for name, value in pairs}


@pytest.mark.parametrize("query", ["", "items=1&page=2", "meeting_series_id=412", "items=100"])
async def test_rest_serves_exactly_the_grpc_data(
    load: Load, feed: Feed, grpc_feed: GrpcFeed, query: str
) -> None:
    doc = example_document(extra_upcoming=3)
    doc["users"].append(user(77, None, None, None))
    doc["meetings"].append(
        meeting(77, "2026-07-01T00:00:00+00:00", group_leader_id=77, name=None, topic=None)
    )
    doc["registrations"].append(registration(77, 4601))
    load(doc)
    typed = grpc_feed(request(**grpc_fields(query)))
    rest = await (await feed(query)).read()
    assert rest == orjson.dumps(shape(typed))
