"""Validation of the IANA time zone names organizations are stored with."""

from __future__ import annotations

import functools
import zoneinfo
from typing import TypeGuard


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: object) -> TypeGuard[str]:
    """Whether `name` is an IANA time zone name, spelled exactly (case included)."""
    # Checked against the list rather than by constructing a ZoneInfo: on a case-insensitive
    # file system ZoneInfo("america/new_york") loads, and the same name fails on Linux.
    return isinstance(name, str) and name in _known_names()
