"""The records of a fixture document: the keys each list's records must have, and the checks
that turn their JSON values into stored values. Pure: no database."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeGuard

from store.keys import ACCESS_KEY_LENGTH
from store.models import MAX_IDP_ID_LENGTH, MEETING_STATUSES, REGISTRATION_STATUSES
from store.timezones import is_time_zone

LIST_NAMES = (
    "organizations",
    "users",
    "meeting_series",
    "meetings",
    "registrations",
    "memberships",
)

_MAX_BIGINT = 2**63 - 1
_MAX_INTEGER = 2**31 - 1
# Meeting.price is DECIMAL(12, 2): ten digits before the point, two after.
_PRICE_LIMIT = Decimal(10) ** 10
_CENT = Decimal("0.01")
_DECIMAL_STRING = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


class InvalidValue(Exception):
    """A record or one of its values is unacceptable; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Check = Callable[[Any], Any]


def _is_integer(value: object) -> TypeGuard[int]:
    # JSON true/false arrive as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)


def _identifier(value: object) -> int:
    if _is_integer(value) and 1 <= value <= _MAX_BIGINT:
        return value
    raise InvalidValue("must be a positive integer")


def _positive_integer(value: object) -> int:
    if _is_integer(value) and 1 <= value <= _MAX_INTEGER:
        return value
    raise InvalidValue("must be a positive integer")


def _count(value: object) -> int:
    if _is_integer(value) and 0 <= value <= _MAX_INTEGER:
        return value
    raise InvalidValue("must be a non-negative integer or null")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise InvalidValue("must be a string")


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidValue("must be a string or null")


def _name(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidValue("must be a non-empty string")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidValue("must be true or false")


def _optional(check: Check) -> Check:
    def optional(value: object) -> object:
        return None if value is None else check(value)

    return optional


def _one_of(choices: tuple[str, ...]) -> Check:
    def one_of(value: object) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise InvalidValue(f"must be one of {', '.join(choices)}")

    return one_of


def _access_key(value: object) -> str:
    if isinstance(value, str) and len(value) == ACCESS_KEY_LENGTH:
        return value
    raise InvalidValue(f"must be a string of exactly {ACCESS_KEY_LENGTH} characters")


def _time_zone(value: object) -> str:
    if is_time_zone(value):
        return value
    raise InvalidValue(f"must be an IANA time zone name such as America/New_York, not {value!r}")


def _start_time(value: object) -> datetime:
    """ISO 8601 with an offset, as naive UTC."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.utcoffset() is not None:
                return parsed.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            pass
    raise InvalidValue(
        "must be an ISO 8601 date-time with a UTC offset, such as 2026-05-23T15:00:00+00:00"
    )


def _idp_id(value: object) -> str:
    # PostgreSQL text cannot hold NUL; refused on SQLite too, so a file loads on both.
    if isinstance(value, str) and 1 <= len(value) <= MAX_IDP_ID_LENGTH and "\0" not in value:
        return value
    raise InvalidValue(f"must be a string of 1 to {MAX_IDP_ID_LENGTH} characters, without NUL")


def _price(value: object) -> Decimal | None:
    if value is None:
        return None
    if _is_integer(value):
        amount = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        # repr is the shortest text that reads back as the same float: 12.5, not 12.4999...
        amount = Decimal(repr(value))
    elif isinstance(value, str) and _DECIMAL_STRING.fullmatch(value):
        amount = Decimal(value)
    else:
        raise InvalidValue("must be a number, a decimal string or null")
    if amount < 0:
        raise InvalidValue("must not be negative")
    if amount >= _PRICE_LIMIT:
        raise InvalidValue(f"must be less than {_PRICE_LIMIT:f}")
    # Rounding money silently would change what the file says; refuse instead.
    if amount != amount.quantize(_CENT):
        raise InvalidValue("must have at most 2 decimal places")
    return amount.quantize(_CENT)


RECORD_CHECKS: dict[str, dict[str, Check]] = {
    "organizations": {
        "id": _identifier,
        "name": _name,
        "access_key": _access_key,
        "time_zone": _time_zone,
        "eap": _flag,
        "hpc_organization_id": _optional(_identifier),
    },
    "users": {
        "id": _identifier,
        "first_name": _optional_text,
        "last_name": _optional_text,
        "avatar_url": _optional_text,
    },
    "meeting_series": {
        "id": _identifier,
        "organization_id": _identifier,
    },
    "meetings": {
        "id": _identifier,
        "organization_id": _identifier,
        "name": _optional_text,
        "meeting_type": _optional_text,
        "start_time": _start_time,
        "duration": _positive_integer,
        "status": _one_of(MEETING_STATUSES),
        "topic": _optional_text,
        "special_focus": _optional_text,
        "host": _optional_text,
        "location": _optional_text,
        "price": _price,
        "max_attendees": _optional(_count),
        "meeting_description": _optional_text,
        "group_leader_id": _optional(_identifier),
        "privacy": _flag,
        "eap": _flag,
        "allow_meeting_donation": _flag,
        "invitation_only": _flag,
        "wait_list": _flag,
        "meeting_series_id": _optional(_identifier),
    },
    "registrations": {
        "meeting_id": _identifier,
        "user_id": _identifier,
        "status": _one_of(REGISTRATION_STATUSES),
        "registered_at": _optional(_start_time),
    },
    "memberships": {
        "organization_id": _identifier,
        "user_id": _identifier,
        "idp_id": _idp_id,
    },
}
# Keys added to a list's form after it was first published: a record may leave them out, and
# then has this value (so older documents load unchanged).
OPTIONAL_KEYS: dict[str, dict[str, Any]] = {"registrations": {"registered_at": None}}


def _quoted(keys: list[str]) -> str:
    return ", ".join(repr(key) for key in keys)


def parse_record(list_name: str, record: object) -> dict[str, Any]:
    """The stored values of one record of `list_name`; raises InvalidValue naming the fault.

    Every key of the list's form must be present (but those of OPTIONAL_KEYS) and no other;
    meetings gain `end_time`.
    """
    if not isinstance(record, dict):
        raise InvalidValue("must be a JSON object")
    checks = RECORD_CHECKS[list_name]
    optional = OPTIONAL_KEYS.get(list_name, {})
    missing = [key for key in checks if key not in record and key not in optional]
    if missing:
        raise InvalidValue(f"missing key{'s' if len(missing) > 1 else ''} {_quoted(missing)}")
    unknown = [key for key in record if key not in checks]
    if unknown:
        raise InvalidValue(f"unknown key{'s' if len(unknown) > 1 else ''} {_quoted(unknown)}")
    values: dict[str, Any] = {}
    for key, check in checks.items():
        try:
            values[key] = check(record[key]) if key in record else optional[key]
        except InvalidValue as exc:
            raise InvalidValue(f"{key} {exc.reason}") from None
    if list_name == "meetings":
        try:
            values["end_time"] = values["start_time"] + timedelta(minutes=values["duration"])
        except OverflowError:
            raise InvalidValue("duration ends the meeting after the year 9999") from None
    return values
