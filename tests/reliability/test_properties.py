"""Property tests of the parameter parsers: whatever arrives, a value or a BindError."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.errors import BindError
from gateway.legacy.export import COLUMNS, bind, parse_legacy_datetime
from gateway.params import INT32_MAX, INT64_MAX, MAX_VALUES_PER_PARAMETER, Params, parse_int
from heypeers.meetings.v1 import meetings_service_pb2 as pb

FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner)
)


@FAST
@given(JSON_VALUES, st.sampled_from([INT32_MAX, INT64_MAX]))
@example("+-5", INT32_MAX)
@example("9" * 5000, INT32_MAX)
@example("-" + "9" * 5000, INT64_MAX)
@example("\u0661", INT32_MAX)
@example(" 007 ", INT32_MAX)
@example(1e300, INT64_MAX)
@example(float("nan"), INT64_MAX)
def test_parse_int_gives_a_clamped_integer_or_a_bind_error(value: Any, limit: int) -> None:
    try:
        number = parse_int(
            value, field="page", message="Parameter page must be an integer", limit=limit
        )
    except BindError as exc:
        assert exc.field == "page" and exc.description == "Parameter page must be an integer"
        return
    assert isinstance(number, int) and -limit <= number <= limit
    if isinstance(value, str):
        assert value.isascii() and INTEGER_TEXT.fullmatch(value)
        text = value.strip()
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > 30:  # far past any limit: the sign alone decides
            assert number == (-limit if text.startswith("-") else limit)
        else:
            assert number == max(-limit, min(limit, int(text)))
    else:
        assert not isinstance(value, bool) and isinstance(value, int | float)


@FAST
@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_every_integer_round_trips_through_its_text(number: int) -> None:
    for text in (str(number), f" {number} ", f"+{number}" if number >= 0 else str(number)):
        assert parse_int(text, field="p", message="m") == max(-INT64_MAX, min(INT64_MAX, number))


LEGACY = re.compile(
    r"(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/[0-9]{4} (0?[1-9]|1[0-2]):[0-5][0-9] [AP]M"
)


@FAST
@given(st.one_of(st.text(), JSON_VALUES))
@example("11/01/2025 08:00 AM")
@example("02/30/2025 08:00 AM")
@example("13/01/2025 08:00 AM")
@example("11/01/2025 08:00 am\x00")
@example("11/01/2025 00:00 AM")
def test_parse_legacy_datetime_gives_a_civil_time_or_a_bind_error(value: Any) -> None:
    try:
        parsed = parse_legacy_datetime(value, "start_time")
    except BindError as exc:
        assert exc.field == "start_time"
        if "does not exist" in exc.description:
            # The format was right: only the day is missing from its month.
            assert isinstance(value, str)
            assert LEGACY.fullmatch(" ".join(value.split()).upper())
        else:
            assert "MM/DD/YYYY HH:MM AM/PM" in exc.description
        return
    assert isinstance(value, str)
    assert LEGACY.fullmatch(" ".join(value.split()).upper())
    datetime(parsed.year, parsed.month, parsed.day, parsed.hours, parsed.minutes)


@FAST
@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)),
    st.booleans(),
)
def test_every_legacy_datetime_reads_back(moment: datetime, lower: bool) -> None:
    text = moment.strftime("%m/%d/%Y %I:%M %p")
    parsed = parse_legacy_datetime(text.lower() if lower else text, "end_time")
    assert (parsed.year, parsed.month, parsed.day, parsed.hours, parsed.minutes) == (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
    )


COLUMN_VALUES = st.lists(
    st.one_of(st.sampled_from(sorted(COLUMNS)), st.text(max_size=20), JSON_SCALARS),
    max_size=MAX_VALUES_PER_PARAMETER + 20,
)


@FAST
@given(COLUMN_VALUES)
def test_column_arrays_bind_to_known_columns_in_order_each_once(values: list[Any]) -> None:
    params = Params()
    try:
        params.add("column[]", values)
    except BindError as exc:
        assert len(values) > MAX_VALUES_PER_PARAMETER, exc.description
        return
    request = pb.ExportMeetingsRequest()
    bind(request, params)
    expected: list[int] = []
    for value in values:
        if isinstance(value, str) and value in COLUMNS and COLUMNS[value] not in expected:
            expected.append(COLUMNS[value])
    assert list(request.columns) == expected


@pytest.mark.parametrize("count", [MAX_VALUES_PER_PARAMETER, MAX_VALUES_PER_PARAMETER + 1])
def test_the_cap_counts_values_across_repeats(count: int) -> None:
    params = Params()
    pairs = [("column[]", "name")] * count
    if count > MAX_VALUES_PER_PARAMETER:
        with pytest.raises(BindError):
            params.extend(pairs)
    else:
        params.extend(pairs)
        assert len(params.all("column")) == count
