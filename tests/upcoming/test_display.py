"""Duration words, leader names and avatars of the feed (pure functions)."""

from __future__ import annotations

import pytest

from server.display import (
    DEFAULT_AVATAR_URL,
    avatar_url_or_default,
    duration_words,
    leader_display_name,
)


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (1, "1 minute"),
        (2, "2 minutes"),
        (30, "30 minutes"),
        (45, "45 minutes"),
        (59, "59 minutes"),
        (60, "1 hour"),
        (61, "1 hour 1 minute"),
        (90, "1 hour 30 minutes"),
        (120, "2 hours"),
        (125, "2 hours 5 minutes"),
        (1440, "24 hours"),
        (1500, "25 hours"),
        (0, "0 minutes"),
    ],
)
def test_duration_words(minutes: int, words: str) -> None:
    assert duration_words(minutes) == words


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        ("Jane", "Doe", "Jane D."),
        ("Sam", "Lee", "Sam L."),
        ("Jane", None, "Jane"),
        ("Jane", "", "Jane"),
        ("Jane", "   ", "Jane"),
        (" Mary Ann ", " smith", "Mary Ann S."),
        ("Juan", "de la Cruz", "Juan D."),
        ("Zoë", "Łukasiewicz", "Zoë Ł."),
        (None, "Doe", "D."),
        ("  ", "Doe", "D."),
        (None, None, ""),
        ("", "", ""),
    ],
)
def test_leader_display_name(first: str | None, last: str | None, name: str) -> None:
    assert leader_display_name(first, last) == name


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("https://assets.example.org/thumb/1.png", "https://assets.example.org/thumb/1.png"),
        (None, DEFAULT_AVATAR_URL),
        ("", DEFAULT_AVATAR_URL),
        ("  ", DEFAULT_AVATAR_URL),
    ],
)
def test_avatar_falls_back_to_the_default(stored: str | None, shown: str) -> None:
    assert avatar_url_or_default(stored) == shown


def test_the_default_avatar_is_the_pages_url() -> None:
    assert DEFAULT_AVATAR_URL == "https://ssl.gstatic.com/accounts/ui/avatar_2x.png"
