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
from heypeers.meetings.v1 import options_pb2
from server.enum_options import COLUMN_KINDS
from store.export import Column, Row

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


def _set_time(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    # datetime.fromisoformat is C; Timestamp.FromJsonString goes through strptime, which
    # costs more than the rest of the row.
    since_epoch = datetime.fromisoformat(value) - _EPOCH
    timestamp = getattr(message, column)
    timestamp.seconds = since_epoch.days * 86_400 + since_epoch.seconds
    timestamp.nanos = since_epoch.microseconds * 1000


def _set_decimal(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    getattr(message, column).value = decimal_text(value)


def _set_flag(message: pb.ExportedMeeting, column: str, value: Any) -> None:
    setattr(message, column, bool(value))


Setter = Callable[[pb.ExportedMeeting, str, Any], None]


# The setter of each column kind. Text and whole numbers can be null, which stays unset: how
# proto3 optional says null.
_SETTERS: dict[int, Setter] = {
    options_pb2.EXPORT_COLUMN_KIND_TEXT: _set_if_not_null,
    options_pb2.EXPORT_COLUMN_KIND_INTEGER: _set_if_not_null,
    options_pb2.EXPORT_COLUMN_KIND_TIME: _set_time,
    options_pb2.EXPORT_COLUMN_KIND_DECIMAL: _set_decimal,
    options_pb2.EXPORT_COLUMN_KIND_FLAG: _set_flag,
}


def _setter(column: str) -> Setter:
    setter = _SETTERS.get(COLUMN_KINDS.get(column, options_pb2.EXPORT_COLUMN_KIND_UNSPECIFIED))
    if setter is None:
        raise ValueError(f"unknown export column {column!r}")
    return setter


class TypedRows:
    """Builds ExportedMeeting messages that set only the requested columns (each column's
    field is the one of its name)."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self._setters = tuple(
            (index, column.name, _setter(column.name)) for index, column in enumerate(columns)
        )

    def build(self, rows: Sequence[Row]) -> list[pb.ExportedMeeting]:
        meetings = []
        for row in rows:
            message = pb.ExportedMeeting()
            for index, column, setter in self._setters:
                setter(message, column, row[index])
            meetings.append(message)
        return meetings
