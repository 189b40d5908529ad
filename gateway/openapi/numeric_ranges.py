"""Regular expressions for ranges of whole numbers: 1..highest in at most so many digits.

The timeout headers' patterns (gateway.openapi.patterns) need "a number of seconds up to N"
as a regex. Written here rather than taken from a package: the one on PyPI (range-regex) has
not been released since 2013, and its patterns are spelled differently, which would change
the published document.
"""

from __future__ import annotations


def _digits(low: int, high: int) -> str:
    return str(low) if low == high else f"[{low}-{high}]"


def _any_digits(count: int) -> str:
    return "[0-9]" if count == 1 else f"[0-9]{{{count}}}"


def _digit_span(low: str, high: str) -> str:
    """A pattern for the numbers from `low` to `high`, written with as many digits each."""
    if low == high:
        return low
    if len(low) == 1:
        return _digits(int(low), int(high))
    rest = len(low) - 1
    if low[0] == high[0]:
        return f"{low[0]}(?:{_digit_span(low[1:], high[1:])})"
    parts = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * rest:
        parts.append(f"{low[0]}(?:{_digit_span(low[1:], '9' * rest)})")
        first += 1
    tail = None
    if high[1:] != "9" * rest:
        tail = f"{high[0]}(?:{_digit_span('0' * rest, high[1:])})"
        last -= 1
    if first <= last:
        parts.append(_digits(first, last) + _any_digits(rest))
    return "|".join([*parts, *([tail] if tail else [])])


def counting_pattern(highest: int, digits: int) -> str:
    """A pattern for 1..highest written in at most `digits` digits (leading zeros allowed)."""
    parts = []
    for length in range(1, len(str(highest)) + 1):
        low, high = max(1, 10 ** (length - 1)), min(highest, 10**length - 1)
        zeros = digits - length
        padding = f"0{{0,{zeros}}}" if zeros else ""
        parts.append(f"{padding}(?:{_digit_span(str(low), str(high))})")
    return "|".join(parts)
