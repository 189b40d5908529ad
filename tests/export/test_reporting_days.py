"""Every reporting_days preset through the gRPC API with an injected clock, at its edges: local
midnight and month ends in New York, a DST-change week, a meeting in progress, a cancelled
past meeting, a meeting marked complete before its end; plus custom ranges and the explicit
range on top of a preset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.type import datetime_pb2

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from tests.conftest import FakeClock
from tests.export.conftest import ORG_ID, document, grpc_token, meeting


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Meetings of an organization in America/New_York (UTC-5 in winter, UTC-4 from 2026-03-08).
MEETINGS = [
    meeting(1, utc(2026, 2, 28, 4, 59)),  # Fri 02-27 23:59 local
    meeting(2, utc(2026, 2, 28, 5)),  # Sat 02-28 00:00 local
    meeting(3, utc(2026, 3, 1, 4, 59)),  # Sat 02-28 23:59 local
    meeting(4, utc(2026, 3, 1, 5)),  # Sun 03-01 00:00 local
    meeting(5, utc(2026, 3, 2, 4, 59)),  # Sun 03-01 23:59 local
    meeting(6, utc(2026, 3, 2, 5)),  # Mon 03-02 00:00 local: the DST week starts
    meeting(7, utc(2026, 3, 9, 3, 59)),  # Sun 03-08 23:59 EDT: the DST week's last minute
    meeting(8, utc(2026, 3, 9, 4)),  # Mon 03-09 00:00 EDT
    meeting(9, utc(2026, 3, 8, 7)),  # Sun 03-08 03:00 EDT, just after clocks jumped
    # Around the default clock, 2026-05-20 12:00 UTC:
    meeting(20, utc(2026, 5, 20, 11, 30)),  # in progress until 12:30
    meeting(21, utc(2026, 5, 19, 12), status="cancel"),  # cancelled, in the past
    meeting(22, utc(2026, 5, 20, 11, 45), status="complete"),  # complete before its end
    meeting(23, utc(2026, 5, 20, 11)),  # ended exactly now
    meeting(24, utc(2026, 5, 21, 12)),  # upcoming
    meeting(25, utc(2026, 5, 22, 12), status="cancel"),  # cancelled, upcoming
    meeting(26, utc(2026, 5, 20, 12)),  # starts now
    meeting(27, utc(2026, 6, 1, 12), status="complete"),  # marked complete ahead of time
]
START_OF = {m["id"]: datetime.fromisoformat(m["start_time"]) for m in MEETINGS}
DEFAULT_NOW = utc(2026, 5, 20, 12)
EARLY = {1, 2, 3, 4, 5, 6, 7, 8, 9}
R = pb.ReportingDays


@pytest.fixture
def export(
    stub: pb_grpc.MeetingsServiceStub,
    clock: FakeClock,
    load: Callable[[dict[str, Any]], None],
) -> Callable[..., list[int]]:
    """Runs an export at a given instant; returns the ids, in the order received."""
    load(document(MEETINGS))

    def run(now: datetime, **fields: Any) -> list[int]:
        clock.now = now
        request = pb.ExportMeetingsRequest(
            organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME], **fields
        )
        response = stub.ExportMeetings(request, metadata=grpc_token(stub))
        return [int(row.name.removeprefix("Meeting ")) for row in response.meetings]

    return run


def in_order(ids: set[int]) -> list[int]:
    return sorted(ids, key=lambda meeting_id: (START_OF[meeting_id], meeting_id))


@pytest.mark.parametrize(
    ("now", "reporting_days", "expected"),
    [
        # all (also unset) and all_past: ended by now, or marked complete.
        (DEFAULT_NOW, R.REPORTING_DAYS_UNSPECIFIED, EARLY | {21, 22, 23, 27}),
        (DEFAULT_NOW, R.REPORTING_DAYS_ALL, EARLY | {21, 22, 23, 27}),
        (DEFAULT_NOW, R.REPORTING_DAYS_ALL_PAST, EARLY | {21, 22, 23, 27}),
        # One second earlier, meeting 23 has not ended yet.
        (DEFAULT_NOW - timedelta(seconds=1), R.REPORTING_DAYS_ALL, EARLY | {21, 22, 27}),
        # all_upcoming: not ended, neither cancelled nor complete (in progress counts).
        (DEFAULT_NOW, R.REPORTING_DAYS_ALL_UPCOMING, {20, 24, 26}),
        # today, at either side of local midnight.
        (utc(2026, 3, 1, 4, 59, 59), R.REPORTING_DAYS_TODAY, {2, 3}),
        (utc(2026, 3, 1, 5), R.REPORTING_DAYS_TODAY, {4, 5}),
        # today on the day clocks spring forward (23 hours long).
        (utc(2026, 3, 8, 16), R.REPORTING_DAYS_TODAY, {7, 9}),
        # current_month, at either side of the local month end.
        (utc(2026, 3, 1, 4, 59, 59), R.REPORTING_DAYS_CURRENT_MONTH, {1, 2, 3}),
        (utc(2026, 3, 1, 5), R.REPORTING_DAYS_CURRENT_MONTH, {4, 5, 6, 7, 8, 9}),
        # last_month, at either side of the local month end.
        (utc(2026, 3, 1, 4, 59, 59), R.REPORTING_DAYS_LAST_MONTH, set()),
        (utc(2026, 3, 1, 5), R.REPORTING_DAYS_LAST_MONTH, {1, 2, 3}),
        (utc(2026, 4, 1, 4), R.REPORTING_DAYS_LAST_MONTH, {4, 5, 6, 7, 8, 9}),
        # last_week: the Monday-to-Sunday week holding the DST change, from Monday 00:00 EDT ...
        (utc(2026, 3, 9, 4), R.REPORTING_DAYS_LAST_WEEK, {6, 7, 9}),
        # ... while on Sunday 23:59:59 EDT the previous week is still the one before.
        (utc(2026, 3, 9, 3, 59, 59), R.REPORTING_DAYS_LAST_WEEK, {1, 2, 3, 4, 5}),
    ],
)
def test_presets_at_their_edges(
    export: Callable[..., list[int]], now: datetime, reporting_days: int, expected: set[int]
) -> None:
    assert export(now, reporting_days=reporting_days) == in_order(expected)


def civil(year: int, month: int, day: int, hours: int = 0, minutes: int = 0) -> Any:
    return datetime_pb2.DateTime(year=year, month=month, day=day, hours=hours, minutes=minutes)


def test_custom_includes_both_ends_in_local_time(export: Callable[..., list[int]]) -> None:
    ids = export(
        DEFAULT_NOW,
        reporting_days=R.REPORTING_DAYS_CUSTOM,
        start_time=civil(2026, 3, 1, 0, 0),
        end_time=civil(2026, 3, 1, 23, 59),
    )
    assert ids == [4, 5]


def test_custom_from_a_time_clocks_skipped_starts_at_the_jump(
    export: Callable[..., list[int]],
) -> None:
    # 02:30 never happened on 2026-03-08 in New York; 03:00 EDT (meeting 9) comes after it.
    ids = export(
        DEFAULT_NOW,
        reporting_days=R.REPORTING_DAYS_CUSTOM,
        start_time=civil(2026, 3, 8, 2, 30),
        end_time=civil(2026, 3, 8, 23, 59),
    )
    assert ids == [9, 7]


def test_custom_in_the_time_zone_the_value_names(export: Callable[..., list[int]]) -> None:
    start = civil(2026, 3, 1, 5, 0)
    start.time_zone.id = "UTC"
    end = civil(2026, 3, 2, 4, 59)
    end.utc_offset.seconds = 0
    ids = export(
        DEFAULT_NOW, reporting_days=R.REPORTING_DAYS_CUSTOM, start_time=start, end_time=end
    )
    assert ids == [4, 5]


def test_explicit_range_applies_on_top_of_a_preset(export: Callable[..., list[int]]) -> None:
    ids = export(
        utc(2026, 3, 1, 5),
        reporting_days=R.REPORTING_DAYS_CURRENT_MONTH,
        start_time=civil(2026, 3, 2),
        end_time=civil(2026, 3, 8, 23, 59),
    )
    assert ids == [6, 9, 7]
    # On top of all_past as well: only past meetings within the range.
    ids = export(
        DEFAULT_NOW,
        reporting_days=R.REPORTING_DAYS_ALL,
        start_time=civil(2026, 5, 19),
        end_time=civil(2026, 6, 30),
    )
    assert ids == [21, 23, 22, 27]


@pytest.mark.parametrize("end", ["start_time", "end_time"])
def test_one_end_alone_is_ignored_outside_custom(
    export: Callable[..., list[int]], end: str
) -> None:
    ids = export(
        utc(2026, 3, 1, 5),
        reporting_days=R.REPORTING_DAYS_CURRENT_MONTH,
        **{end: civil(2026, 3, 8)},
    )
    assert ids == in_order({4, 5, 6, 7, 8, 9})


def test_a_range_that_ends_before_it_starts_is_empty(export: Callable[..., list[int]]) -> None:
    ids = export(
        DEFAULT_NOW,
        reporting_days=R.REPORTING_DAYS_CUSTOM,
        start_time=civil(2026, 3, 2),
        end_time=civil(2026, 3, 1),
    )
    assert ids == []
