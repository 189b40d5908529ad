"""How an export's rows are written in each format: the legacy JSON document (the server's
bytes as they came), CSV and NDJSON (from the rows, each batch decoded once with msgspec).

Every writer works one batch at a time (a head, the rows of each batch, a tail), so a streamed
export stays streamed in every format. A batch is what the RPCs send: the rows' legacy JSON
objects, comma-separated.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from gateway.legacy.enum_options import COLUMNS_BY_KEY, ExportColumn
from gateway.legacy.export_formats.negotiation import CSV, NDJSON, ExportFormat

_LOGGER = logging.getLogger(__name__)


class RowWriter(Protocol):
    """Writes an export one batch at a time."""

    def head(self) -> bytes: ...

    def rows(self, json_meetings: bytes) -> bytes: ...

    def tail(self) -> bytes: ...


JSON_STREAM_HEAD = b'{"success":true,"meetings":['
JSON_STREAM_TAIL = b"]}"


class JsonDocumentWriter:
    """The legacy unpaginated document, its rows copied as the server encoded them."""

    def __init__(self) -> None:
        self._separator = b""

    def head(self) -> bytes:
        return JSON_STREAM_HEAD

    def rows(self, json_meetings: bytes) -> bytes:
        if not json_meetings:
            return b""
        chunk = self._separator + json_meetings
        self._separator = b","
        return chunk

    def tail(self) -> bytes:
        return JSON_STREAM_TAIL


# Rows are JSON objects: anything else in a batch is a decoding error, checked in C.
_ROWS_DECODER = msgspec.json.Decoder(list[dict[str, Any]])
_ROWS_ENCODER = msgspec.json.Encoder()


def decode_rows(json_meetings: bytes) -> list[dict[str, Any]]:
    """The rows of a batch (comma-separated JSON objects, as the RPCs send them), decoded at
    once as one array.

    msgspec, not orjson: as fast, and it builds the rows straight from the bytes, where orjson
    reserves about 13 times the size of its input while it decodes (a batch of wide rows is
    up to 4 MiB), which would be the gateway's largest allocation by far.
    """
    if not json_meetings:
        return []
    try:
        return _ROWS_DECODER.decode(b"[" + json_meetings + b"]")
    except msgspec.DecodeError as exc:
        raise ValueError(f"export rows are not comma-separated JSON objects: {exc}") from exc


class NdjsonWriter:
    """One legacy JSON object per line (LF): each row encoded again, compactly with its keys
    in order, which is byte for byte what the databases wrote for the JSON export
    (tests/export/test_json_rows.py holds them to it)."""

    def head(self) -> bytes:
        return b""

    def rows(self, json_meetings: bytes) -> bytes:
        return _ROWS_ENCODER.encode_lines(decode_rows(json_meetings))

    def tail(self) -> bytes:
        return b""


# A UTF-8 byte order mark: Excel reads a CSV without one in the machine's legacy code page.
# It sits in the header line, which every header-aware loader skips.
UTF8_BOM = "\ufeff"
# Cells a spreadsheet would run as a formula (OWASP "CSV Injection": = + - @ tab CR), and the
# full-width forms some spreadsheets treat the same way.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def neutralise_formula(text: str) -> str:
    """A text cell that a spreadsheet would evaluate, made literal by a leading single quote."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def csv_cell(value: Any) -> Any:
    """A legacy JSON value as a CSV cell: text neutralised, flags true/false, null empty.

    Only strings (text columns, start_time) can carry a formula, so only they are neutralised;
    numbers arrive as JSON numbers and are written as they are, negative ones included.
    """
    if isinstance(value, str):
        return neutralise_formula(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value  # None is an empty cell; numbers print as in the JSON


class _Lines:
    """Where the csv module writes: the lines of one batch, handed over and forgotten.

    (A StringIO would keep its largest batch's buffer, four bytes a character, for good.)
    """

    def __init__(self) -> None:
        self._lines: list[str] = []

    def write(self, line: str) -> int:
        self._lines.append(line)
        return len(line)

    def take(self) -> bytes:
        text = "".join(self._lines)
        self._lines = []
        return text.encode("utf-8")


def export_columns(keys: Sequence[str]) -> tuple[ExportColumn, ...]:
    """The facts of the columns a request's legacy keys name; a ValueError for an unknown one."""
    unknown = [key for key in keys if key not in COLUMNS_BY_KEY]
    if unknown:
        raise ValueError(f"no label for export columns {unknown}")
    return tuple(COLUMNS_BY_KEY[key] for key in keys)


class CsvWriter:
    """RFC 4180 CSV: a header row of the page's labels, CRLF line ends, fields quoted when
    they hold a comma, a quote or a line break, UTF-8 with a BOM."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._columns = export_columns(columns)
        self._keys = tuple(column.json_key for column in self._columns)
        # Cells are converted column by column, by kind (a per-cell call would triple the cost).
        self._text = tuple(i for i, c in enumerate(self._columns) if c.is_string)
        self._flags = tuple(i for i, c in enumerate(self._columns) if c.is_flag)
        self._other = tuple(
            i for i, c in enumerate(self._columns) if not (c.is_string or c.is_flag)
        )
        self._lines = _Lines()
        # The excel dialect is RFC 4180's: comma, double quote doubled, minimal quoting.
        self._writer = csv.writer(self._lines, dialect="excel", lineterminator="\r\n")

    def head(self) -> bytes:
        if not self._columns:  # no known column: no header, no rows, an empty file
            return b""
        self._lines.write(UTF8_BOM)
        self._writer.writerow(column.label for column in self._columns)
        return self._lines.take()

    def cells(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        """The cells of a batch's rows, in the requested column order."""
        keys = self._keys
        table = [[row.get(key) for key in keys] for row in rows]
        triggers = FORMULA_TRIGGERS
        for i in self._text:
            for cells in table:
                value = cells[i]
                if value.__class__ is str:
                    if value and value[0] in triggers:
                        cells[i] = "'" + value
                elif value is not None:
                    cells[i] = csv_cell(value)
        for i in self._flags:
            for cells in table:
                value = cells[i]
                cells[i] = "true" if value is True else "false" if value is False else value
        for i in self._other:
            for cells in table:
                if cells[i].__class__ in (str, bool):  # only if the server ever sent one
                    cells[i] = csv_cell(cells[i])
        return table

    def rows(self, json_meetings: bytes) -> bytes:
        if not json_meetings or not self._keys:
            return b""
        self._writer.writerows(self.cells(decode_rows(json_meetings)))
        return self._lines.take()

    def tail(self) -> bytes:
        return b""


def row_writer(export_format: ExportFormat, columns: Sequence[str]) -> RowWriter:
    """The writer of an unpaginated export (or of one page's rows, for CSV and NDJSON)."""
    if export_format.name == CSV.name:
        return CsvWriter(columns)
    if export_format.name == NDJSON.name:
        return NdjsonWriter()
    return JsonDocumentWriter()
