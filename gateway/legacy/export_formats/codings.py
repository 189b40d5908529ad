"""The export's content codings: gzip when the client accepts it (applied chunk by chunk, so a
streamed export stays streamed), and the encoder that runs a writer's output through one."""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Protocol

from gateway.legacy.export_formats.negotiation import header_quality
from gateway.legacy.export_formats.writers import JsonDocumentWriter, RowWriter

_LOGGER = logging.getLogger(__name__)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (by name, as x-gzip, or through *)."""
    if not accept_encoding:
        return False
    named: float | None = None
    anything: float | None = None
    for part in accept_encoding.split(","):
        coding, *parameters = part.split(";")
        coding = coding.strip().lower()
        quality = header_quality(parameters)
        if coding in ("gzip", "x-gzip"):
            named = quality if named is None else max(named, quality)
        elif coding == "*":
            anything = quality
    if named is not None:
        return named > 0
    return anything is not None and anything > 0


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
