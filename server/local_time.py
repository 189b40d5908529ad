"""Wall-clock readings in a time zone turned into instants, exactly across DST gaps and folds.

A reading may happen twice (clocks fall back) or never (clocks spring forward). Range bounds
need one instant each, chosen so that the range holds what a person reading the wall clock
means: a lower bound is the first instant at which the clock shows the reading or later, an
inclusive upper bound the last instant at which it shows the reading or earlier.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

_RESOLUTION = timedelta(microseconds=1)


def _instant(wall: datetime, zone: tzinfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _reading(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _jump_instant(wall: datetime, zone: tzinfo) -> datetime:
    """The instant clocks jump over `wall`, which lies in a gap.

    Read with the offset after the jump, `wall` lands before it; read with the offset before
    it, after it. The jump lies between: bisect to the microsecond (transitions fall on
    whole seconds, so this ends within a few dozen steps).
    """
    before, after = _instant(wall, zone, 1), _instant(wall, zone, 0)
    while after - before > _RESOLUTION:
        middle = before + (after - before) / 2
        if _reading(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after


def _exists(wall: datetime, zone: tzinfo) -> bool:
    return _reading(_instant(wall, zone, 0), zone) == wall


def first_instant_at(wall: datetime, zone: tzinfo) -> datetime:
    """The first instant (UTC) at which clocks in `zone` read `wall` (naive) or later."""
    if _exists(wall, zone):
        return _instant(wall, zone, 0)  # fold 0 is the first of two readings
    return _jump_instant(wall, zone)


def last_instant_at(wall: datetime, zone: tzinfo) -> datetime:
    """The last instant (UTC) at which clocks in `zone` read `wall` (naive) or earlier."""
    if _exists(wall, zone):
        return _instant(wall, zone, 1)  # fold 1 is the second of two readings
    return _jump_instant(wall, zone) - _RESOLUTION


def start_of_day(day: date, zone: tzinfo) -> datetime:
    """The first instant (UTC) of a calendar day in `zone`, even where midnight is skipped."""
    return first_instant_at(datetime.combine(day, time()), zone)
