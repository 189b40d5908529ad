"""The export's formats, by concern: which format a request asks for and what its download is
called (negotiation), how rows are written in it (writers), and the gzip content coding
(codings). What the export handler uses is named here."""

from __future__ import annotations

from gateway.legacy.export_formats.codings import Coding, ExportEncoder, coding_for
from gateway.legacy.export_formats.negotiation import (
    CSV,
    FORMATS,
    JSON,
    NDJSON,
    NDJSON_NEW_NAME,
    VARY,
    ExportFormat,
    content_disposition,
    download_name,
    format_parameter,
    media_ranges,
    resolve_format,
)
from gateway.legacy.export_formats.writers import row_writer

__all__ = [
    "CSV",
    "FORMATS",
    "JSON",
    "NDJSON",
    "NDJSON_NEW_NAME",
    "VARY",
    "Coding",
    "ExportEncoder",
    "ExportFormat",
    "coding_for",
    "content_disposition",
    "download_name",
    "format_parameter",
    "media_ranges",
    "resolve_format",
    "row_writer",
]
