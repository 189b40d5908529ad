"""The calendar presets and wall-clock conversions as pure functions, at their edges: local
midnight and month ends in zones away from UTC, DST weeks, and days whose midnight is skipped
or whose last hour happens twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from server.local_time import first_instant_at, last_instant_at, start_of_day
from server.presets import CALENDAR_PRESETS, StartRange

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SANTIAGO = ZoneInfo("America/Santiago")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST moves clocks by 30 minutes


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("preset", "zone", "now", "expected"),
    [
        # A second before local midnight it is still yesterday in New York (UTC-5).
        ("today", NEW_YORK, utc(2026, 3, 1, 4, 59, 59), (utc(2026, 2, 28, 5), utc(2026, 3, 1, 5))),
        ("today", NEW_YORK, utc(2026, 3, 1, 5), (utc(2026, 3, 1, 5), utc(2026, 3, 2, 5))),
        # The day clocks spring forward has 23 hours, the day they fall back 25.
        ("today", NEW_YORK, utc(2026, 3, 8, 16), (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))),
        ("today", NEW_YORK, utc(2026, 11, 1, 16), (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))),
        # East of UTC the local day starts the evening before, in UTC.
        ("today", TOKYO, utc(2026, 5, 31, 15), (utc(2026, 5, 31, 15), utc(2026, 6, 1, 15))),
        # Santiago skips midnight on 2026-09-06 (00:00 -> 01:00): the day starts at the jump.
        ("today", SANTIAGO, utc(2026, 9, 6, 12), (utc(2026, 9, 6, 4), utc(2026, 9, 7, 3))),
        # ... and lives 23:00-24:00 twice on 2026-04-04: a 25-hour day.
        ("today", SANTIAGO, utc(2026, 4, 4, 12), (utc(2026, 4, 4, 3), utc(2026, 4, 5, 4))),
        ("today", LORD_HOWE, utc(2026, 4, 5, 3), (utc(2026, 4, 4, 13), utc(2026, 4, 5, 13, 30))),
        # Month ends: the local month, not the UTC one.
        (
            "current_month",
            NEW_YORK,
            utc(2026, 3, 1, 4, 59, 59),
            (utc(2026, 2, 1, 5), utc(2026, 3, 1, 5)),
        ),
        ("current_month", NEW_YORK, utc(2026, 3, 1, 5), (utc(2026, 3, 1, 5), utc(2026, 4, 1, 4))),
        (
            "current_month",
            TOKYO,
            utc(2026, 5, 31, 15),
            (utc(2026, 5, 31, 15), utc(2026, 6, 30, 15)),
        ),
        (
            "current_month",
            NEW_YORK,
            utc(2026, 12, 31, 12),
            (utc(2026, 12, 1, 5), utc(2027, 1, 1, 5)),
        ),
        # The previous Monday-to-Sunday week; the one holding the DST change has 167 hours.
        ("last_week", NEW_YORK, utc(2026, 3, 9, 4), (utc(2026, 3, 2, 5), utc(2026, 3, 9, 4))),
        # A second before Monday it is still Sunday: the week before is the previous one.
        (
            "last_week",
            NEW_YORK,
            utc(2026, 3, 9, 3, 59, 59),
            (utc(2026, 2, 23, 5), utc(2026, 3, 2, 5)),
        ),
        ("last_week", NEW_YORK, utc(2026, 11, 2, 17), (utc(2026, 10, 26, 4), utc(2026, 11, 2, 5))),
        # A week that spans the new year.
        ("last_week", NEW_YORK, utc(2026, 1, 5, 17), (utc(2025, 12, 29, 5), utc(2026, 1, 5, 5))),
        # The previous calendar month, across the new year and across a DST change.
        (
            "last_month",
            NEW_YORK,
            utc(2026, 1, 1, 4, 59),
            (utc(2025, 11, 1, 4), utc(2025, 12, 1, 5)),
        ),
        ("last_month", NEW_YORK, utc(2026, 1, 1, 5), (utc(2025, 12, 1, 5), utc(2026, 1, 1, 5))),
        ("last_month", NEW_YORK, utc(2026, 4, 15), (utc(2026, 3, 1, 5), utc(2026, 4, 1, 4))),
        (
            "last_month",
            TOKYO,
            utc(2026, 3, 1, 14, 59),
            (utc(2026, 1, 31, 15), utc(2026, 2, 28, 15)),
        ),
    ],
)
def test_calendar_presets(preset: str, zone: tzinfo, now: datetime, expected: StartRange) -> None:
    assert CALENDAR_PRESETS[preset](now, zone) == expected


@pytest.mark.parametrize("preset", sorted(CALENDAR_PRESETS))
def test_presets_refuse_a_naive_now(preset: str) -> None:
    with pytest.raises(ValueError, match="aware"):
        CALENDAR_PRESETS[preset](datetime(2026, 5, 20, 12), NEW_YORK)


@pytest.mark.parametrize("zone", [NEW_YORK, TOKYO, SANTIAGO, LORD_HOWE, ZoneInfo("UTC")])
def test_every_day_of_two_years_starts_where_the_previous_one_ends(zone: tzinfo) -> None:
    today: Callable[[datetime, tzinfo], StartRange] = CALENDAR_PRESETS["today"]
    day = date(2025, 1, 1)
    while day < date(2027, 1, 1):
        start, end = today(start_of_day(day, zone), zone)
        assert start == start_of_day(day, zone)
        assert start.astimezone(zone).date() == day
        assert (start - timedelta(microseconds=1)).astimezone(zone).date() < day
        assert end == start_of_day(day + timedelta(days=1), zone)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("wall", "first", "last"),
    [
        # An ordinary time: one instant.
        (datetime(2026, 5, 20, 8), utc(2026, 5, 20, 12), utc(2026, 5, 20, 12)),
        # Skipped (02:00 -> 03:00): later bounds start at the jump, earlier ones end before it.
        (
            datetime(2026, 3, 8, 2, 30),
            utc(2026, 3, 8, 7),
            utc(2026, 3, 8, 7) - timedelta(microseconds=1),
        ),
        # Lived twice (02:00 -> 01:00): the first and the second reading.
        (datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
    ],
)
def test_wall_clock_readings_in_new_york(wall: datetime, first: datetime, last: datetime) -> None:
    assert first_instant_at(wall, NEW_YORK) == first
    assert last_instant_at(wall, NEW_YORK) == last
