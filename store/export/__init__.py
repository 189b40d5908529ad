"""The SQL of the meetings export, by job: which meetings and how each row is written
(filters), the total and one page from one snapshot (pages), and every row read batch by
batch (readers). What the server uses is named here."""

from __future__ import annotations

from store.export.filters import (
    CLOSED_STATUSES,
    EXPORT_COLUMNS,
    Column,
    ExportFilter,
    Row,
)
from store.export.pages import export_page
from store.export.readers import ExportReader, open_export

__all__ = [
    "CLOSED_STATUSES",
    "EXPORT_COLUMNS",
    "Column",
    "ExportFilter",
    "ExportReader",
    "Row",
    "export_page",
    "open_export",
]
