"""Exported rows (tuples of the requested columns, see store.export) as the legacy JSON objects
or as typed ExportedMeeting messages.

The stream and the pages ask the store for rows the database has already written as JSON
(store.export, `json_rows=True`): a batch is then one join of bytes, with no Python code per
row or per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from store.export import FLAG_COLUMNS, Row

_TEXT_COLUMNS = frozenset(
    {
        "name",
        "meeting_type",
        "status",
        "topic",
        "special_focus",
        "host",
        "location",
        "meeting_description",
    }
)
_INTEGER_COLUMNS = frozenset({"duration", "max_attendees", "group_leader_id"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def json_number(value: Any) -> int | float:
    """A price as the legacy JSON prints it: 10, not 10.0 or 10.00; else 12.5."""
    if isinstance(value, Decimal | float):
        if value == int(value):
            return int(value)
        return float(value)  # two decimal places: the shortest float repr reads the same
    if isinstance(value, int):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} in an export row")


def decimal_text(value: Any) -> str:
    """A price as a google.type.Decimal value string: "10", "12.5", "0"."""
    number = json_number(value)
    return str(number) if isinstance(number, int) else repr(number)


def join_json_rows(rows: Sequence[Row]) -> bytes:
    """Rows the database wrote as JSON (1-tuples of bytes) as comma-separated objects."""
    return b",".join([row[0] for row in rows])


def _set_if_not_null(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    if value is not None:
        setattr(message, column, value)


def _set_start_time(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    # datetime.fromisoformat is C; Timestamp.FromJsonString goes through strptime, which
    # costs more than the rest of the row.
    since_epoch = datetime.fromisoformat(value) - _EPOCH
    message.start_time.seconds = since_epoch.days * 86_400 + since_epoch.seconds
    message.start_time.nanos = since_epoch.microseconds * 1000


def _set_price(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    message.price.value = decimal_text(value)


def _set_flag(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    setattr(message, column, bool(value))


Setter = Callable[[pb.ExportedMeeting, str, Any], None]


def _setter(column: str) -> Setter:
    if column == "start_time":
        return _set_start_time
    if column == "price":
        return _set_price
    if column in FLAG_COLUMNS:
        return _set_flag
    if column in _TEXT_COLUMNS or column in _INTEGER_COLUMNS:
        return _set_if_not_null  # null stays unset, which is how proto3 optional says null
    raise ValueError(f"unknown export column {column!r}")


class TypedRows:
    """Builds ExportedMeeting messages that set only the requested columns."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._setters = tuple(
            (index, column, _setter(column)) for index, column in enumerate(columns)
        )

    def build(self, rows: Sequence[Row]) -> list[pb.ExportedMeeting]:
        meetings = []
        for row in rows:
            message = pb.ExportedMeeting()
            for index, column, setter in self._setters:
                setter(message, column, row[index])
            meetings.append(message)
        return meetings
