"""What the gateway's binders accept, as the regular expressions of OpenAPI `pattern`s."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.limits import GRPC_TIMEOUT_UNITS, MAX_TIMEOUT_SECONDS
from gateway.openapi.numeric_ranges import counting_pattern

# The document admits exactly the values the gateway takes, no more and no fewer: partners'
# tools (and the fuzzing in tests/reliability) check both ways. The binders are lenient where
# legacy clients were: a blank value (str.strip() leaves nothing: any Unicode space) counts as
# absent, and integers, dates and enum names may come with surrounding spaces. Integers (an
# optional sign, ASCII digits, any size) are strings in a query and JSON numbers or strings in
# a body. tests/gateway/test_openapi_constraints.py holds each pattern to the gateway's code.


def char_class(chars: Iterable[str]) -> str:
    """A regex character class of `chars`, with ranges, written as \\xNN / \\uNNNN escapes that
    Python and ECMA-262 (the dialect of OpenAPI's `pattern`) read alike."""
    codes = sorted({ord(c) for c in chars})
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])

    def escape(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    parts = (escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in runs)
    return "[" + "".join(parts) + "]"


# What str.strip() and str.split() take for spaces: every character str.isspace() accepts.
SPACE = char_class(c for c in map(chr, range(0x110000)) if c.isspace())
# The same within ASCII: integers and dates must be ASCII (gateway.params, parse_legacy_datetime).
ASCII_SPACE = char_class(c for c in map(chr, range(0x80)) if c.isspace())


def blank_or(body: str, *, space: str = ASCII_SPACE) -> str:
    """An anchored pattern: a blank value, or `body` with surrounding `space`s."""
    return f"^(?:{SPACE}*|{space}*(?:{body}){space}*)$"


def one_of_words(words: Iterable[str], *, any_case: bool = False) -> str:
    def spell(word: str) -> str:
        if not any_case:
            return re.escape(word)
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)

    return "|".join(spell(word) for word in words)


# Export ranges: MM/DD/YYYY HH:MM AM/PM, as time.strptime reads it after the gateway joins the
# words with single spaces: one-digit months, days, hours and minutes, a day after a space
# ("11/ 1/2025"), any case of AM/PM, any ASCII spaces between and around the parts, and only
# the days of the calendar (February 29 in leap years only; no year 0).
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MULTIPLE_OF_4 = r"(?:0[48]|[2468][048]|[13579][26])"
_LEAP_YEAR = rf"(?:[0-9]{{2}}{_MULTIPLE_OF_4}|{_MULTIPLE_OF_4}00)"
_DAY_TO_28 = rf"(?:0?[1-9]|{ASCII_SPACE}+[1-9]|1[0-9]|2[0-8])"
_DATE = (
    rf"(?:(?:0?[13578]|1[02])/(?:{_DAY_TO_28}|29|3[01])"
    rf"|(?:0?[469]|11)/(?:{_DAY_TO_28}|29|30)"
    rf"|0?2/{_DAY_TO_28})/{_YEAR}"
    rf"|0?2/29/{_LEAP_YEAR}"
)
_TIME = r"(?:0?[1-9]|1[0-2]):[0-5]?[0-9]"
LEGACY_DATETIME_PATTERN = blank_or(rf"(?:{_DATE}){ASCII_SPACE}+{_TIME}{ASCII_SPACE}+[AaPp][Mm]")
# Integers: an optional sign and ASCII digits, any number of them (the gateway clamps).
INTEGER_STRING_PATTERN = blank_or(r"[+-]?[0-9]+")
POSITIVE_INTEGER_STRING_PATTERN = blank_or(r"\+?0*[1-9][0-9]*")


def _timeout_seconds_pattern() -> str:
    """X-Request-Timeout as gateway.limits reads it: [0-9]{1,7}(.[0-9]{1,6})? seconds, above 0
    and at most MAX_TIMEOUT_SECONDS (a whole number)."""
    limit = int(MAX_TIMEOUT_SECONDS)
    fraction = r"(?:\.[0-9]{1,6})?"
    nonzero_fraction = "|".join(f"0{{{k}}}[1-9][0-9]{{0,{5 - k}}}" for k in range(6))
    return (
        f"(?:{counting_pattern(limit - 1, 7)}){fraction}"
        f"|0{{0,{7 - len(str(limit))}}}{limit}(?:\\.0{{1,6}})?"
        f"|0{{1,7}}\\.(?:{nonzero_fraction})"
    )


def _grpc_timeout_pattern() -> str:
    """Grpc-Timeout as gateway.limits reads it: up to 8 digits and a unit, above 0 and at most
    MAX_TIMEOUT_SECONDS once converted (as the gateway computes it, in floating point)."""
    parts = []
    for unit, seconds in GRPC_TIMEOUT_UNITS.items():
        highest = min(10**8 - 1, int(MAX_TIMEOUT_SECONDS / seconds) + 1)
        while highest * seconds > MAX_TIMEOUT_SECONDS:
            highest -= 1
        parts.append(f"(?:{counting_pattern(highest, 8)}){unit}")
    return "|".join(parts)


TIMEOUT_SECONDS_PATTERN = f"^{SPACE}*(?:{_timeout_seconds_pattern()}){SPACE}*$"
GRPC_TIMEOUT_PATTERN = f"^{SPACE}*(?:{_grpc_timeout_pattern()}){SPACE}*$"
