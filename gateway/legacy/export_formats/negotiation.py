"""The export's formats and their names: which one a request asks for (the `format`
parameter, else `Accept`), and the file name a download is saved under."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from gateway.errors import BindError
from gateway.params import blank

_LOGGER = logging.getLogger(__name__)


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


def header_quality(parameters: Sequence[str]) -> float:
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
        yield _MediaRange(kind, subtype, header_quality(parameters), position)


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


def download_name(
    organization_id: int, export_format: ExportFormat, today: date, *, page: int | None = None
) -> str:
    """The file name an export is saved under: meetings-5-20260520.csv (UTC date), and
    meetings-5-20260520-page-2.csv for one page."""
    suffix = "" if page is None else f"-page-{page}"
    return f"meetings-{organization_id}-{today:%Y%m%d}{suffix}.{export_format.extension}"


def content_disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'
