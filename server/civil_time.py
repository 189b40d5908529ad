"""google.type.DateTime values of requests: checked field by field, then read as a wall-clock
time in the zone the value names (an IANA zone or a UTC offset) or else a default zone."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from google.type import datetime_pb2

from server.errors import FieldViolation, InvalidArgument
from store.timezones import is_time_zone

# English whatever the process's locale (calendar.month_name follows it).
MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Offsets beyond ±18 hours exist in no time zone (ISO 8601 and most libraries stop there).
MAX_UTC_OFFSET = timedelta(hours=18)
_RANGES = (
    ("year", 1, 9999),
    ("month", 1, 12),
    ("hours", 0, 23),
    ("minutes", 0, 59),
    ("seconds", 0, 59),
    ("nanos", 0, 999_999_999),
)


@dataclass(frozen=True)
class CivilTime:
    """A wall-clock reading (naive) and the zone whose clocks it was read on."""

    wall: datetime
    zone: tzinfo


def _zone_of(
    value: datetime_pb2.DateTime, field: str
) -> tuple[tzinfo | None, list[FieldViolation]]:
    kind = value.WhichOneof("time_offset")
    if kind == "time_zone":
        name = value.time_zone.id
        if is_time_zone(name):
            return ZoneInfo(name), []
        description = (
            f"{field}.time_zone.id must be an IANA time zone name such as America/New_York, "
            f"not {name!r}"
        )
        return None, [FieldViolation(f"{field}.time_zone.id", description)]
    if kind == "utc_offset":
        offset = value.utc_offset
        seconds = offset.seconds
        if offset.nanos == 0 and abs(seconds) <= MAX_UTC_OFFSET.total_seconds():
            return timezone(timedelta(seconds=seconds)), []
        description = f"{field}.utc_offset must be whole seconds within ±18 hours"
        return None, [FieldViolation(f"{field}.utc_offset", description)]
    return None, []


def _day_violations(value: datetime_pb2.DateTime, field: str) -> list[FieldViolation]:
    """A day outside 1..31 is out of range, as other fields; a day its month lacks (Feb 30)
    is a date that does not exist, worded as the REST API words it."""
    days = calendar.monthrange(value.year, value.month)[1]
    if 1 <= value.day <= days:
        return []
    if 1 <= value.day <= 31:
        description = (
            f"{field}: the date {value.year:04d}-{value.month:02d}-{value.day:02d} does not "
            f"exist ({MONTH_NAMES[value.month]} {value.year} has {days} days)"
        )
    else:
        description = (
            f"{field}.day must be 1 to {days} for {value.year:04d}-{value.month:02d}, "
            f"not {value.day}"
        )
    return [FieldViolation(f"{field}.day", description)]


def read_civil_time(value: datetime_pb2.DateTime, field: str, default_zone: tzinfo) -> CivilTime:
    """The reading of a DateTime; InvalidArgument names every field that is out of range."""
    violations = []
    for name, low, high in _RANGES:
        number = getattr(value, name)
        if not low <= number <= high:
            violations.append(
                FieldViolation(
                    f"{field}.{name}", f"{field}.{name} must be {low} to {high}, not {number}"
                )
            )
    if 1 <= value.year <= 9999 and 1 <= value.month <= 12:
        violations += _day_violations(value, field)
    zone, zone_violations = _zone_of(value, field)
    violations += zone_violations
    if violations:
        raise InvalidArgument(violations)
    wall = datetime(
        value.year,
        value.month,
        value.day,
        value.hours,
        value.minutes,
        value.seconds,
        value.nanos // 1000,
    )
    return CivilTime(wall, zone or default_zone)
