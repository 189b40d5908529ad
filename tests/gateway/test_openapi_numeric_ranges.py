"""gateway.openapi.numeric_ranges: a regex for 1..highest in at most so many digits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.openapi.numeric_ranges import counting_pattern


def test_counting_patterns_count_exactly() -> None:
    for highest in (1, 9, 10, 60, 99, 100, 3599, 3600, 3_600_000):
        pattern = counting_pattern(highest, 8)
        for number in (*range(0, 130), *range(highest - 120, highest + 120)):
            assert bool(re.fullmatch(pattern, str(number))) == (1 <= number <= highest)
        assert re.fullmatch(pattern, f"{highest:08d}") and not re.fullmatch(pattern, "0" * 9 + "1")


@settings(max_examples=500, deadline=None, database=None)
@given(
    highest=st.integers(min_value=1, max_value=10**8 - 1),
    # Near the top of the range, where the last digits' spans are cut; or anywhere.
    offset=st.integers(min_value=-(10**6), max_value=10),
    anywhere=st.none() | st.integers(min_value=0, max_value=10**9),
    padding=st.integers(min_value=0, max_value=3),
)
def test_a_number_matches_exactly_when_it_is_in_range_and_fits_the_digits(
    highest: int, offset: int, anywhere: int | None, padding: int
) -> None:
    number = max(0, highest + offset) if anywhere is None else anywhere
    digits = len(str(highest)) + 1
    text = "0" * padding + str(number)
    pattern = counting_pattern(highest, digits)
    expected = 1 <= number <= highest and len(text) <= digits
    assert bool(re.fullmatch(pattern, text)) == expected, (highest, text)


def test_the_spelling_is_stable() -> None:
    # The published document carries these patterns: a change of spelling changes its bytes.
    assert counting_pattern(9, 1) == "(?:[1-9])"
    assert counting_pattern(60, 2) == "0{0,1}(?:[1-9])|(?:[1-5][0-9]|6(?:0))"
    assert counting_pattern(3599, 7) == (
        "0{0,6}(?:[1-9])|0{0,5}(?:[1-9][0-9])|0{0,4}(?:[1-9][0-9]{2})"
        "|0{0,3}(?:[1-2][0-9]{3}|3(?:[0-5][0-9]{2}))"
    )


def test_no_sign_space_or_other_digits_are_taken() -> None:
    pattern = counting_pattern(3600, 7)
    for text in ("+1", "-1", " 1", "1 ", "1.0", "\u0661", "", "0"):
        assert not re.fullmatch(pattern, text), text
