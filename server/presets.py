"""The calendar presets of reporting_days: half-open [from, to) ranges of meeting starts, in UTC,
for the calendar of the organization's time zone as it stands at one instant `now`.

Pure functions: `now` is an aware datetime and `zone` a tzinfo (a ZoneInfo); DST changes are
honoured because every bound is a local midnight turned into an instant on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType

from server.local_time import start_of_day

StartRange = tuple[datetime, datetime]


def _local_today(now: datetime, zone: tzinfo) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(zone).date()


def _days(first: date, after_last: date, zone: tzinfo) -> StartRange:
    return start_of_day(first, zone), start_of_day(after_last, zone)


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def today(now: datetime, zone: tzinfo) -> StartRange:
    """Meetings starting on the local calendar day of `now`."""
    day = _local_today(now, zone)
    return _days(day, day + timedelta(days=1), zone)


def current_month(now: datetime, zone: tzinfo) -> StartRange:
    """Meetings starting in the local calendar month of `now`."""
    first = _local_today(now, zone).replace(day=1)
    return _days(first, _first_of_next_month(first), zone)


def last_week(now: datetime, zone: tzinfo) -> StartRange:
    """Meetings starting in the Monday-to-Sunday week before the local week of `now`."""
    day = _local_today(now, zone)
    this_monday = day - timedelta(days=day.weekday())
    return _days(this_monday - timedelta(days=7), this_monday, zone)


def last_month(now: datetime, zone: tzinfo) -> StartRange:
    """Meetings starting in the local calendar month before the month of `now`."""
    first_of_this = _local_today(now, zone).replace(day=1)
    first_of_last = (first_of_this - timedelta(days=1)).replace(day=1)
    return _days(first_of_last, first_of_this, zone)


# The presets that are a range of start times, by their legacy name.
CALENDAR_PRESETS: Mapping[str, Callable[[datetime, tzinfo], StartRange]] = MappingProxyType(
    {
        "today": today,
        "current_month": current_month,
        "last_week": last_week,
        "last_month": last_month,
    }
)
