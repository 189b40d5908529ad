"""How the upcoming-meetings feed words things for the public: durations and leader profiles."""

from __future__ import annotations

from functools import lru_cache

DEFAULT_AVATAR_URL = "https://ssl.gstatic.com/accounts/ui/avatar_2x.png"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


@lru_cache(maxsize=1024)  # a feed has few distinct durations; the words never change
def duration_words(minutes: int) -> str:
    """The duration in words: "1 hour", "2 hours", "30 minutes", "1 hour 30 minutes".

    Hours never roll over into days ("25 hours"): the feed lists sessions, not events that
    span days. No minutes at all reads "0 minutes".
    """
    hours, rest = divmod(max(minutes, 0), 60)
    if hours and rest:
        return f"{_count(hours, 'hour')} {_count(rest, 'minute')}"
    if hours:
        return _count(hours, "hour")
    return _count(rest, "minute")


def leader_display_name(first_name: str | None, last_name: str | None) -> str:
    """The first name and the last name's initial: "Jane D.", or "Jane" without a last name.

    Blank parts count as missing. Without a first name the initial stands alone ("D."), so the
    full last name stays private as it does for everyone else; with neither, the name is "".
    """
    first = (first_name or "").strip()
    last = (last_name or "").strip()
    initial = f"{last[0].upper()}." if last else ""
    return f"{first} {initial}" if first and initial else first or initial


def avatar_url_or_default(avatar_url: str | None) -> str:
    """The leader's thumbnail URL, or the platform's default avatar when unset or blank."""
    url = (avatar_url or "").strip()
    return url or DEFAULT_AVATAR_URL
