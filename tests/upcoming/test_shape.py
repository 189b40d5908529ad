"""The gateway's shaping of a typed page into the legacy JSON, without a server."""

from __future__ import annotations

import orjson
import pytest
from google.protobuf import timestamp_pb2

from gateway.legacy.upcoming import legacy_time, shape, shape_meeting
from heypeers.meetings.v1 import meetings_service_pb2 as pb

MEETING_KEYS = [
    "id", "name", "start_time", "end_time", "duration", "duration_in_minutes", "topic",
    "description", "location", "meeting_series_id", "max_attendees", "registered_attendees",
    "group_leader",
]  # fmt: skip


@pytest.mark.parametrize(
    ("seconds", "nanos", "text"),
    [
        (1779548400, 0, "2026-05-23T15:00:00.000Z"),
        (1779548400, 250_000_000, "2026-05-23T15:00:00.250Z"),
        # Milliseconds are truncated, never rounded up into the next second.
        (1779548400, 999_999_999, "2026-05-23T15:00:00.999Z"),
        (0, 1_000_000, "1970-01-01T00:00:00.001Z"),
    ],
)
def test_legacy_time(seconds: int, nanos: int, text: str) -> None:
    assert legacy_time(timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)) == text


def test_unset_optional_fields_and_a_missing_leader_become_null() -> None:
    shaped = shape_meeting(pb.UpcomingMeeting(id=7, duration="1 hour", duration_in_minutes=60))
    assert list(shaped) == MEETING_KEYS
    assert shaped == {
        "id": 7,
        "name": None,
        "start_time": None,
        "end_time": None,
        "duration": "1 hour",
        "duration_in_minutes": 60,
        "topic": None,
        "description": None,
        "location": None,
        "meeting_series_id": None,
        "max_attendees": None,
        "registered_attendees": 0,
        "group_leader": None,
    }


def test_set_empty_and_zero_values_stay_values() -> None:
    meeting = pb.UpcomingMeeting(
        id=7,
        name="",
        topic="",
        description="",
        location="",
        meeting_series_id=3,
        max_attendees=0,
        group_leader=pb.GroupLeader(id=9, name="", avatar="a"),
    )
    shaped = shape_meeting(meeting)
    assert (shaped["name"], shaped["topic"], shaped["description"], shaped["location"]) == (
        "",
        "",
        "",
        "",
    )
    assert (shaped["meeting_series_id"], shaped["max_attendees"]) == (3, 0)
    assert shaped["group_leader"] == {"id": 9, "name": "", "avatar": "a"}


def test_an_empty_page_is_compact_json() -> None:
    response = pb.ListUpcomingMeetingsResponse(current_page=3, items=20, total_items=0)
    assert orjson.dumps(shape(response)) == (
        b'{"current_page":3,"items":20,"total_items":0,"total_pages":0,"meetings":[]}'
    )
