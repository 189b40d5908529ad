from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from store.fixture_records import InvalidValue, parse_record
from tests.store.documents import meeting, spec_document


def _organization(**changes: Any) -> dict[str, Any]:
    return {**spec_document()["organizations"][0], **changes}


@pytest.mark.parametrize(
    ("start_time", "stored"),
    [
        ("2026-05-23T15:00:00+00:00", datetime(2026, 5, 23, 15, 0)),
        ("2026-05-23T11:00:00-04:00", datetime(2026, 5, 23, 15, 0)),
        ("2026-05-24T00:30:00+09:30", datetime(2026, 5, 23, 15, 0)),
        ("2026-05-23T15:00:00Z", datetime(2026, 5, 23, 15, 0)),
        ("2026-05-23T15:00:00.250+00:00", datetime(2026, 5, 23, 15, 0, 0, 250000)),
    ],
)
def test_start_time_with_an_offset_becomes_naive_utc(start_time: str, stored: datetime) -> None:
    row = parse_record("meetings", meeting(1, start_time=start_time, duration=90))
    assert row["start_time"] == stored
    assert row["start_time"].tzinfo is None


def test_end_time_is_start_plus_duration() -> None:
    row = parse_record("meetings", meeting(1, start_time="2026-05-23T23:30:00+00:00", duration=45))
    assert row["end_time"] == datetime(2026, 5, 24, 0, 15)


@pytest.mark.parametrize(
    ("price", "stored"),
    [
        (None, None),
        (10, Decimal("10")),
        (12.5, Decimal("12.50")),
        ("12.50", Decimal("12.50")),
        ("0", Decimal("0")),
        (0.1, Decimal("0.10")),
    ],
)
def test_price_may_be_null_a_number_or_a_decimal_string(price: object, stored: object) -> None:
    assert parse_record("meetings", meeting(1, price=price))["price"] == stored


@pytest.mark.parametrize(
    ("list_name", "record", "reason"),
    [
        ("meetings", "not an object", "must be a JSON object"),
        ("meetings", {k: v for k, v in meeting(1).items() if k != "price"}, "missing key 'price'"),
        ("meetings", {**meeting(1), "colour": "red"}, "unknown key 'colour'"),
        ("meetings", meeting(0), "id must be a positive integer"),
        ("meetings", meeting(1, duration=0), "duration must be a positive integer"),
        ("meetings", meeting(1, duration=-30), "duration must be a positive integer"),
        ("meetings", meeting(1, duration=1.5), "duration must be a positive integer"),
        ("meetings", meeting(1, duration="60"), "duration must be a positive integer"),
        ("meetings", meeting(1, duration=True), "duration must be a positive integer"),
        (
            "meetings",
            meeting(1, status="done"),
            "status must be one of scheduled, complete, cancel",
        ),
        (
            "meetings",
            meeting(1, start_time="2026-05-23T15:00:00"),
            "start_time must be an ISO 8601 date-time with a UTC offset",
        ),
        (
            "meetings",
            meeting(1, start_time="05/23/2026 3:00 PM"),
            "start_time must be an ISO 8601 date-time with a UTC offset",
        ),
        (
            "meetings",
            meeting(1, start_time=1779548400),
            "start_time must be an ISO 8601 date-time with a UTC offset",
        ),
        ("meetings", meeting(1, price="12,50"), "price must be a number, a decimal string"),
        ("meetings", meeting(1, price="NaN"), "price must be a number, a decimal string"),
        ("meetings", meeting(1, price=float("inf")), "price must be a number, a decimal string"),
        ("meetings", meeting(1, price=True), "price must be a number, a decimal string"),
        ("meetings", meeting(1, price=-1), "price must not be negative"),
        ("meetings", meeting(1, price="12.555"), "price must have at most 2 decimal places"),
        ("meetings", meeting(1, price=10**10), "price must be less than 10000000000"),
        ("meetings", meeting(1, max_attendees=-1), "max_attendees must be a non-negative"),
        ("meetings", meeting(1, privacy=None), "privacy must be true or false"),
        ("meetings", meeting(1, eap="false"), "eap must be true or false"),
        ("meetings", meeting(1, name=7), "name must be a string or null"),
        ("meetings", meeting(1, group_leader_id="4501"), "group_leader_id must be a positive"),
        (
            "meetings",
            meeting(1, start_time="9999-12-31T23:00:00+00:00", duration=120),
            "duration ends the meeting after the year 9999",
        ),
        ("organizations", _organization(access_key="short"), "access_key must be a string of"),
        ("organizations", _organization(access_key="x" * 25), "exactly 24 characters"),
        ("organizations", _organization(access_key=None), "access_key must be a string of"),
        ("organizations", _organization(time_zone="Mars/Base"), "time_zone must be an IANA"),
        ("organizations", _organization(time_zone=None), "time_zone must be an IANA"),
        ("organizations", _organization(name=""), "name must be a non-empty string"),
        ("organizations", _organization(eap=1), "eap must be true or false"),
        ("users", {"id": 1, "first_name": "A", "last_name": None}, "missing key 'avatar_url'"),
        ("users", {"id": 1, "first_name": 3, "last_name": None, "avatar_url": None}, "first_name"),
        ("meeting_series", {"id": 1}, "missing key 'organization_id'"),
        (
            "registrations",
            {"meeting_id": 1, "user_id": 1, "status": "attended"},
            "status must be one of registered, waitlisted, cancelled",
        ),
    ],
)
def test_bad_records_are_rejected_with_the_reason(
    list_name: str, record: object, reason: str
) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_record(list_name, record)
    assert reason in raised.value.reason


def test_missing_keys_are_all_named() -> None:
    with pytest.raises(InvalidValue, match="missing keys 'first_name', 'avatar_url'"):
        parse_record("users", {"id": 1, "last_name": None})


def test_every_nullable_field_may_be_null() -> None:
    nullable = [
        "name",
        "meeting_type",
        "topic",
        "special_focus",
        "host",
        "location",
        "price",
        "max_attendees",
        "meeting_description",
        "group_leader_id",
        "meeting_series_id",
    ]
    row = parse_record("meetings", meeting(1, **dict.fromkeys(nullable)))
    assert all(row[key] is None for key in nullable)
    user = {"id": 1, "first_name": None, "last_name": None, "avatar_url": None}
    assert parse_record("users", user) == user
