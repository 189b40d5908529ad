"""The export's formats: which one a request asks for (the `format` parameter, else `Accept`),
how rows of comma-separated legacy JSON objects are written in it (the legacy JSON document,
CSV, NDJSON), and the gzip content coding when the client accepts it.

Every writer works one batch at a time (a head, the rows of each batch, a tail), so a streamed
export stays streamed in every format, compressed or not.
"""

from __future__ import annotations

import asyncio
import csv
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Protocol

import orjson

from gateway.errors import BindError
from gateway.params import blank

# --- the formats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    """One representation of an export."""

    name: str  # the `format` parameter's value
    content_type: str  # as answered
    extension: str  # of the download's file name


JSON = ExportFormat("json", "application/json; charset=utf-8", "json")
# RFC 4180's optional `header` parameter says the first line holds the column labels.
CSV = ExportFormat("csv", "text/csv; charset=utf-8; header=present", "csv")
NDJSON = ExportFormat("ndjson", "application/x-ndjson; charset=utf-8", "ndjson")
# application/ndjson is the newer name; a client that asks for it by name gets it by name.
NDJSON_NEW_NAME = ExportFormat("ndjson", "application/ndjson; charset=utf-8", "ndjson")

FORMATS: Mapping[str, ExportFormat] = MappingProxyType({f.name: f for f in (JSON, CSV, NDJSON)})
# Media types by the server's preference: JSON first, as it is the legacy answer to */*.
MEDIA_TYPES: Mapping[str, ExportFormat] = MappingProxyType(
    {
        "application/json": JSON,
        "text/csv": CSV,
        "application/x-ndjson": NDJSON,
        "application/ndjson": NDJSON_NEW_NAME,
    }
)
FORMAT_MESSAGE = "Invalid format: accepted values are " + ", ".join(FORMATS)
VARY = "Accept, Accept-Encoding"


def format_parameter(value: Any) -> ExportFormat | None:
    """The format a `format` parameter names (any case), None when blank; else a BindError."""
    if blank(value):
        return None
    if isinstance(value, str) and value.strip().lower() in FORMATS:
        return FORMATS[value.strip().lower()]
    raise BindError("format", FORMAT_MESSAGE)


def resolve_format(named: ExportFormat | None, accept: str | None) -> ExportFormat:
    """The format the `format` parameter named (it wins over Accept), else Accept's choice.

    An Accept header that allows none of the formats still gets JSON, never a 406: legacy
    clients send all sorts of Accept values and always got JSON.
    """
    return named or negotiate(accept) or JSON


@dataclass(frozen=True)
class _MediaRange:
    kind: str  # "text"
    subtype: str  # "csv"
    quality: float
    position: int  # in the header

    def specificity(self, media_type: str) -> int:
        """How closely the range names `media_type`: 2 exactly, 1 type/*, 0 */*, -1 not."""
        kind, _, subtype = media_type.partition("/")
        if self.kind == kind and self.subtype == subtype:
            return 2
        if self.kind == kind and self.subtype == "*":
            return 1
        if self.kind == "*" and self.subtype == "*":
            return 0
        return -1


def _quality(parameters: Sequence[str]) -> float:
    """The q parameter of a header element, within 0..1; absent or unreadable counts as 1."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value.strip())))
            except ValueError:
                return 1.0
    return 1.0


def media_ranges(accept: str) -> Iterator[_MediaRange]:
    """The media ranges of an Accept header; malformed ones are skipped, a bad q counts as 1."""
    for position, part in enumerate(accept.split(",")):
        media, *parameters = part.split(";")
        media = media.strip().lower()
        if media == "*":  # a common shorthand for */*
            media = "*/*"
        kind, slash, subtype = media.partition("/")
        if not (slash and kind and subtype):
            continue
        yield _MediaRange(kind, subtype, _quality(parameters), position)


def negotiate(accept: str | None) -> ExportFormat | None:
    """The format Accept prefers, or None when it allows none (or is absent).

    Each media type takes the quality of the most specific range that names it (RFC 9110
    12.5.1). The highest quality wins; then an exact name over a wildcard; then the client's
    order; then the server's (JSON first, so */* is JSON).
    """
    if accept is None or not accept.strip():
        return None
    ranges = list(media_ranges(accept))
    best: tuple[tuple[float, int, int, int], ExportFormat] | None = None
    for preference, (media_type, export_format) in enumerate(MEDIA_TYPES.items()):
        matches = [(r.specificity(media_type), r) for r in ranges]
        matches = [(s, r) for s, r in matches if s >= 0]
        if not matches:
            continue
        specificity, chosen = max(matches, key=lambda m: (m[0], -m[1].position))
        if chosen.quality <= 0:
            continue
        rank = (chosen.quality, specificity, -chosen.position, -preference)
        if best is None or rank > best[0]:
            best = (rank, export_format)
    return best[1] if best else None


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (by name, as x-gzip, or through *)."""
    if not accept_encoding:
        return False
    named: float | None = None
    anything: float | None = None
    for part in accept_encoding.split(","):
        coding, *parameters = part.split(";")
        coding = coding.strip().lower()
        quality = _quality(parameters)
        if coding in ("gzip", "x-gzip"):
            named = quality if named is None else max(named, quality)
        elif coding == "*":
            anything = quality
    if named is not None:
        return named > 0
    return anything is not None and anything > 0


def download_name(
    organization_id: int, export_format: ExportFormat, today: date, *, page: int | None = None
) -> str:
    """The file name an export is saved under: meetings-5-20260520.csv (UTC date), and
    meetings-5-20260520-page-2.csv for one page."""
    suffix = "" if page is None else f"-page-{page}"
    return f"meetings-{organization_id}-{today:%Y%m%d}{suffix}.{export_format.extension}"


def content_disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'


# --- writers: a head, each batch of rows, a tail -------------------------------------------------


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


def _parsed_object(candidate: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(candidate)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def parse_objects(json_meetings: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """The objects of a batch (comma-separated JSON objects, as the RPCs send them): each
    one's bytes exactly as the server wrote them, and its value.

    Objects are joined by `},{`. The same three bytes inside a string would cut an object
    short, but the piece before such a cut ends inside an unterminated string and so is not
    valid JSON: pieces are joined again until each one parses. Parsing object by object also
    keeps the parser's memory small (orjson reserves about 14 times the size of a document).
    """
    body = json_meetings.strip()
    if not body:
        return
    if not (body.startswith(b"{") and body.endswith(b"}")):
        raise ValueError("export rows are not comma-separated JSON objects")
    pending = b""
    for piece in body[1:-1].split(b"},{"):
        pending = piece if not pending else pending + b"},{" + piece
        candidate = b"{" + pending + b"}"
        value = _parsed_object(candidate)
        if value is not None:
            yield candidate, value
            pending = b""
    if pending:
        raise ValueError("export rows are not comma-separated JSON objects")


def split_objects(json_meetings: bytes) -> list[bytes]:
    """The objects of a batch, each exactly as the server wrote it (not re-encoded)."""
    return [raw for raw, _ in parse_objects(json_meetings)]


class NdjsonWriter:
    """One legacy JSON object per line (LF), the very bytes of the JSON export's objects."""

    def head(self) -> bytes:
        return b""

    def rows(self, json_meetings: bytes) -> bytes:
        return b"".join(obj + b"\n" for obj in split_objects(json_meetings))

    def tail(self) -> bytes:
        return b""


# The labels of the Export Meetings page's column table, by column key, in the page's order.
COLUMN_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "name": "Name",
        "meeting_type": "Meeting Type",
        "start_time": "Start Time",
        "duration": "Duration",
        "status": "Status",
        "topic": "Topic",
        "special_focus": "Special Focus",
        "host": "Host",
        "location": "Location",
        "price": "Price",
        "max_attendees": "Max Registrants",
        "meeting_description": "Description",
        "group_leader_id": "Group Leader",
        "privacy": "Privacy",
        "eap": "EAP Meeting",
        "allow_meeting_donation": "Donation Allowed",
        "invitation_only": "Invitation Only",
        "wait_list": "Wait List",
    }
)
# The one column whose JSON key is not its column key.
JSON_KEYS: Mapping[str, str] = MappingProxyType({"group_leader_id": "group_leader"})

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


# How each column's JSON values are written: strings may need neutralising, flags are spelled
# true/false, numbers (and null, an empty cell) go to the csv module as they are.
TEXT_COLUMNS = frozenset(
    {
        "name",
        "meeting_type",
        "start_time",
        "status",
        "topic",
        "special_focus",
        "host",
        "location",
        "meeting_description",
    }
)
FLAG_COLUMNS = frozenset(
    {"privacy", "eap", "allow_meeting_donation", "invitation_only", "wait_list"}
)


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


class CsvWriter:
    """RFC 4180 CSV: a header row of the page's labels, CRLF line ends, fields quoted when
    they hold a comma, a quote or a line break, UTF-8 with a BOM."""

    def __init__(self, columns: Sequence[str]) -> None:
        unknown = [c for c in columns if c not in COLUMN_LABELS]
        if unknown:
            raise ValueError(f"no label for export columns {unknown}")
        self._columns = tuple(columns)
        self._keys = tuple(JSON_KEYS.get(c, c) for c in columns)
        # Cells are converted column by column (a per-cell call would triple the cost).
        self._text = tuple(i for i, c in enumerate(columns) if c in TEXT_COLUMNS)
        self._flags = tuple(i for i, c in enumerate(columns) if c in FLAG_COLUMNS)
        self._other = tuple(
            i for i, c in enumerate(columns) if c not in TEXT_COLUMNS and c not in FLAG_COLUMNS
        )
        self._lines = _Lines()
        # The excel dialect is RFC 4180's: comma, double quote doubled, minimal quoting.
        self._writer = csv.writer(self._lines, dialect="excel", lineterminator="\r\n")

    def head(self) -> bytes:
        if not self._columns:  # no known column: no header, no rows, an empty file
            return b""
        self._lines.write(UTF8_BOM)
        self._writer.writerow(COLUMN_LABELS[c] for c in self._columns)
        return self._lines.take()

    def cells(self, objects: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """The cells of a batch's rows, in the requested column order."""
        keys = self._keys
        table = [[obj.get(key) for key in keys] for obj in objects]
        triggers = FORMULA_TRIGGERS
        for i in self._text:
            for row in table:
                value = row[i]
                if value.__class__ is str:
                    if value and value[0] in triggers:
                        row[i] = "'" + value
                elif value is not None:
                    row[i] = csv_cell(value)
        for i in self._flags:
            for row in table:
                value = row[i]
                row[i] = "true" if value is True else "false" if value is False else value
        for i in self._other:
            for row in table:
                if row[i].__class__ in (str, bool):  # only if the server ever sent one
                    row[i] = csv_cell(row[i])
        return table

    def rows(self, json_meetings: bytes) -> bytes:
        if not json_meetings or not self._keys:
            return b""
        self._writer.writerows(self.cells([value for _, value in parse_objects(json_meetings)]))
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


# --- content coding ----------------------------------------------------------------------------


class Coding(Protocol):
    """A content coding applied chunk by chunk."""

    name: str | None

    def chunk(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class Identity:
    name: str | None = None

    def chunk(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


# Level 5 costs about half of level 9's time for nearly the same size on export rows.
GZIP_LEVEL = 5


class Gzip:
    """gzip, sync-flushed after every chunk, so each batch leaves as soon as it is written.

    A body cut short lacks the gzip trailer (CRC and length): decoders report the truncation.
    """

    name: str | None = "gzip"

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def chunk(self, data: bytes) -> bytes:
        if not data:
            return b""
        return self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._compressor.flush(zlib.Z_FINISH)


def coding_for(accept_encoding: str | None) -> Coding:
    return Gzip() if accepts_gzip(accept_encoding) else Identity()


# Batches at least this big are converted and compressed on a worker thread, so that a large
# CSV or gzipped export does not hold up the gateway's other requests (zlib releases the GIL;
# the csv module does not, but the event loop still gets its turn every few milliseconds).
OFFLOAD_BYTES = 64 * 1024


class ExportEncoder:
    """The bytes to send for each part of an export: its writer, then its content coding."""

    def __init__(self, writer: RowWriter, coding: Coding) -> None:
        self._writer = writer
        self._coding = coding
        # The legacy JSON rows, uncompressed, are sent as they came: nothing to offload.
        self._offload = not (isinstance(writer, JsonDocumentWriter) and coding.name is None)

    def head(self) -> bytes:
        return self._coding.chunk(self._writer.head())

    def _rows(self, json_meetings: bytes) -> bytes:
        return self._coding.chunk(self._writer.rows(json_meetings))

    async def rows(self, json_meetings: bytes) -> bytes:
        if self._offload and len(json_meetings) >= OFFLOAD_BYTES:
            return await asyncio.to_thread(self._rows, json_meetings)
        return self._rows(json_meetings)

    def end(self) -> bytes:
        return self._coding.chunk(self._writer.tail()) + self._coding.finish()

    def whole(self, json_meetings: bytes) -> bytes:
        """A body written at once (one page)."""
        return self.head() + self._rows(json_meetings) + self.end()
