"""GET/POST /api/v2/organizations/{id}/export_meetings: legacy strings to typed requests,
and the legacy {"success": true, ...} document (or CSV, or NDJSON: see export_formats),
streamed when unpaginated."""

from __future__ import annotations

import asyncio
import calendar
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import grpc
import orjson
from aiohttp import web
from google.type import datetime_pb2

from gateway.calls import Call
from gateway.errors import BindError
from gateway.legacy.enum_options import COLUMNS, COLUMNS_BY_NUMBER, REPORT_TYPES, REPORTING_DAYS
from gateway.legacy.export_formats import (
    JSON,
    VARY,
    Coding,
    ExportEncoder,
    ExportFormat,
    coding_for,
    content_disposition,
    download_name,
    format_parameter,
    resolve_format,
    row_writer,
)
from gateway.params import INT32_MAX, NO_HEADERS, Headers, Params, blank, parse_int
from heypeers.meetings.v1 import meetings_service_pb2 as pb

log = logging.getLogger("meetings.gateway")

LEGACY_DATETIME_FORMAT = "%m/%d/%Y %I:%M %p"
LEGACY_DATETIME_HINT = "MM/DD/YYYY HH:MM AM/PM (e.g. 11/01/2025 08:00 AM)"


def parse_legacy_datetime(value: Any, field: str) -> datetime_pb2.DateTime:
    """`MM/DD/YYYY HH:MM AM/PM` as a civil date-time (the server applies the zone)."""
    message = f"Invalid {field}: expected the format {LEGACY_DATETIME_HINT}"
    # strptime reads any Unicode digit (Arabic-Indic ones too); the format has ASCII digits.
    if not isinstance(value, str) or not value.isascii():
        raise BindError(field, message)
    fields = _civil_fields(value)
    if isinstance(fields, NoSuchDate):
        # The format is right: say which day is missing from the calendar, not the format.
        raise BindError(field, f"Invalid {field}: {fields.describe()}")
    if fields is None:
        raise BindError(field, message)
    year, month, day, hours, minutes = fields
    return datetime_pb2.DateTime(year=year, month=month, day=day, hours=hours, minutes=minutes)


@dataclass(frozen=True)
class NoSuchDate:
    """A legacy date-time in the right format on a day its month does not have."""

    year: int
    month: int
    day: int

    def describe(self) -> str:
        days = calendar.monthrange(self.year, self.month)[1]
        return (
            f"the date {self.month:02d}/{self.day:02d}/{self.year:04d} does not exist "
            f"({MONTH_NAMES[self.month]} {self.year} has {days} days)"
        )


# English whatever the process's locale (calendar.month_name follows it).
MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# strptime's own reading of %d; a day it reads but the month lacks is a date that does not exist.
_DAY = re.compile(r"3[01]|[12][0-9]|0[1-9]|[1-9]")


# A page walk sends the same two dates with every page; strptime was ~3% of a page's time in
# the gateway (profiled), so each text is parsed once.
@lru_cache(maxsize=1024)
def _civil_fields(value: str) -> tuple[int, int, int, int, int] | NoSuchDate | None:
    """The fields of a legacy date-time text; NoSuchDate when only the day is off the
    calendar (02/30/2025 08:00 AM); None when it is not in the format."""
    text = " ".join(value.split()).upper()
    try:
        parsed = datetime.strptime(text, LEGACY_DATETIME_FORMAT)
    except ValueError:
        return _missing_day(text)
    return parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute


def _missing_day(text: str) -> NoSuchDate | None:
    """NoSuchDate when `text` parses with the first of its month instead of its day."""
    month, slash, rest = text.partition("/")
    day, slash_too, rest = rest.partition("/")
    if not (slash and slash_too and _DAY.fullmatch(day)):
        return None
    try:
        parsed = datetime.strptime(f"{month}/01/{rest}", LEGACY_DATETIME_FORMAT)
    except ValueError:
        return None
    return NoSuchDate(parsed.year, parsed.month, int(day))


def _choice(value: Any, field: str, accepted: Mapping[str, int]) -> int:
    if blank(value):
        return 0
    if isinstance(value, str) and value.strip() in accepted:
        return accepted[value.strip()]
    names = ", ".join(accepted)
    raise BindError(field, f"Invalid {field}: accepted values are {names}")


@dataclass(frozen=True)
class BoundExport:
    """An export request as bound: the RPC request, and what its answer depends on besides,
    settled once while binding."""

    request: pb.ExportMeetingsRequest
    export_format: ExportFormat
    # A page (one unary call), or every row (a stream); the request names a page or a size.
    paginated: bool


def bind(
    request: pb.ExportMeetingsRequest, params: Params, headers: Headers = NO_HEADERS
) -> BoundExport:
    seen: set[int] = set()
    for key in params.all("column"):
        column = COLUMNS.get(key) if isinstance(key, str) else None
        if column is not None and column not in seen:  # unknown keys are ignored, as legacy
            seen.add(column)
            request.columns.append(column)
    request.reporting_days = _choice(
        params.last("reporting_days"), "reporting_days", REPORTING_DAYS
    )
    request.report_type = _choice(params.last("report_type"), "report_type", REPORT_TYPES)
    for field in ("start_time", "end_time"):
        value = params.last(field)
        if not blank(value):
            getattr(request, field).CopyFrom(parse_legacy_datetime(value, field))
    paginated = False
    for field, name in (("page", "page"), ("page_size", "per_page")):
        value = params.last(name)
        if not blank(value):
            message = f"Parameter {name} must be an integer"
            setattr(request, field, parse_int(value, field=name, message=message, limit=INT32_MAX))
            paginated = True
    request.row_encoding = pb.ROW_ENCODING_JSON
    # `format` is the gateway's own parameter (no RPC field carries it): a bad value is
    # refused with the other parameters; a good one wins over Accept.
    named = format_parameter(params.last("format"))
    export_format = resolve_format(named, headers.get("Accept"))
    return BoundExport(request, export_format, paginated)


def stream_request(request: pb.ExportMeetingsRequest) -> pb.StreamExportMeetingsRequest:
    return pb.StreamExportMeetingsRequest(
        organization_id=request.organization_id,
        columns=request.columns,
        reporting_days=request.reporting_days,
        start_time=request.start_time if request.HasField("start_time") else None,
        end_time=request.end_time if request.HasField("end_time") else None,
        report_type=request.report_type,
        row_encoding=pb.ROW_ENCODING_JSON,
    )


def paginated_document(response: pb.ExportMeetingsResponse) -> bytes:
    meta = response.metadata
    metadata = orjson.dumps(
        {
            "page": meta.page,
            "per_page": meta.per_page,
            "total_pages": meta.total_pages,
            "total_count": meta.total_count,
        }
    )
    document: bytes = (
        b'{"success":true,"metadata":'
        + metadata
        + b',"meetings":['
        + response.json_meetings
        + b"]}"
    )
    return document


def column_keys(columns: Iterable[int]) -> list[str]:
    """The legacy keys of a request's ExportColumn values."""
    return [COLUMNS_BY_NUMBER[number].key for number in columns if number in COLUMNS_BY_NUMBER]


def no_column_message(export_format: ExportFormat) -> str:
    return (
        f"Invalid column: a {export_format.name.upper()} export needs at least one known "
        f"column; accepted values are {', '.join(COLUMNS)}"
    )


async def respond(call: Call, bound: BoundExport) -> web.StreamResponse:
    request, export_format = bound.request, bound.export_format
    # With no known column the legacy answer is {"success":true,"meetings":[]}, paginated or
    # not; the stream (which still authorizes and validates) yields no rows for it. CSV and
    # NDJSON are not legacy: an empty file would read as "no meetings", so they say why.
    if not request.columns and export_format is not JSON:
        raise BindError("column", no_column_message(export_format))
    if request.columns and bound.paginated:
        response: pb.ExportMeetingsResponse = await call.unary("ExportMeetings", request)
        return page_response(call, request, response, export_format)
    return await stream_export(call, stream_request(request), export_format)


def _today() -> date:
    return datetime.now(UTC).date()


def _headers(export_format: ExportFormat, coding: Coding, filename: str | None) -> dict[str, str]:
    headers = {"Content-Type": export_format.content_type, "Vary": VARY}
    if coding.name is not None:
        headers["Content-Encoding"] = coding.name
    if filename is not None and export_format is not JSON:
        headers["Content-Disposition"] = content_disposition(filename)
    return headers


def page_response(
    call: Call,
    request: pb.ExportMeetingsRequest,
    response: pb.ExportMeetingsResponse,
    export_format: ExportFormat,
) -> web.Response:
    """One page: the legacy paginated document in JSON; in CSV or NDJSON the page's rows, with
    the metadata in headers (X-Page, X-Per-Page, X-Total-Pages, X-Total-Count, Link)."""
    coding = coding_for(call.http.headers.get("Accept-Encoding"))
    meta = response.metadata
    if export_format is JSON:
        body = coding.chunk(paginated_document(response)) + coding.finish()
        headers = _headers(export_format, coding, None)
    else:
        writer = row_writer(export_format, column_keys(request.columns))
        body = ExportEncoder(writer, coding).whole(response.json_meetings)
        name = download_name(request.organization_id, export_format, _today(), page=meta.page)
        headers = _headers(export_format, coding, name)
        headers |= {
            "X-Page": str(meta.page),
            "X-Per-Page": str(meta.per_page),
            "X-Total-Pages": str(meta.total_pages),
            "X-Total-Count": str(meta.total_count),
        }
        links = page_links(call.http, meta.page, meta.total_pages)
        if links:
            headers["Link"] = links
    return web.Response(body=body, headers=headers)


def page_links(http: web.Request, page: int, total_pages: int) -> str | None:
    """RFC 8288 first/prev/next/last links of a GET page (a POST's parameters are in its body,
    which a link cannot carry); path-absolute, the rest of the query kept as sent."""
    if http.method != "GET" or total_pages < 1:
        return None
    base = http.rel_url.without_query_params("page", "page[]")
    targets = [("first", 1)]
    if 1 < page <= total_pages + 1:
        targets.append(("prev", page - 1))
    if page < total_pages:
        targets.append(("next", page + 1))
    targets.append(("last", total_pages))
    return ", ".join(f'<{base.extend_query(page=number)}>; rel="{rel}"' for rel, number in targets)


async def stream_export(
    call: Call, request: pb.StreamExportMeetingsRequest, export_format: ExportFormat = JSON
) -> web.StreamResponse:
    """The unpaginated export, written batch by batch as the server reads it.

    The server's first message (empty) says the request was valid: errors before it become
    the usual error response, and the 200 goes out with it, before any row is read. After
    that, a failure ends the body without its tail (JSON: the closing brackets; gzip: the
    trailer) and closes the connection without the final chunk, so neither a parser nor an
    HTTP client takes the truncated export for a complete one.
    """
    rpc = call.stream("StreamExportMeetings", request)
    try:
        first = await rpc.read()
    except grpc.aio.AioRpcError:
        rpc.cancel()
        raise
    coding = coding_for(call.http.headers.get("Accept-Encoding"))
    encoder = ExportEncoder(row_writer(export_format, column_keys(request.columns)), coding)
    name = download_name(request.organization_id, export_format, _today())
    http = web.StreamResponse(headers=_headers(export_format, coding, name))
    http.enable_chunked_encoding()

    async def send(data: bytes) -> None:
        if data:
            await http.write(data)

    try:
        await http.prepare(call.http)
        await send(encoder.head())
        batch = first
        while batch is not grpc.aio.EOF:  # type: ignore[attr-defined]
            await send(await encoder.rows(batch.json_meetings))
            batch = await rpc.read()
        await send(encoder.end())
        await http.write_eof()
    except grpc.aio.AioRpcError as exc:
        _log_stream_ended(call.request_id, exc)
        _end_without_final_chunk(call.http)
    except ConnectionError:
        log.info("client went away during an export request_id=%s", call.request_id)
    except asyncio.CancelledError:
        # aiohttp cancels the handler of a client that hung up mid-write (or, past the grace
        # period, of a stopping gateway): no failure of the export, and no traceback.
        log.info("export stopped: the client went away request_id=%s", call.request_id)
        raise
    except Exception:
        # The 200 is gone: the one honest answer left is a truncated body.
        log.exception("export stream failed in the gateway request_id=%s", call.request_id)
        _end_without_final_chunk(call.http)
    finally:
        # Stops the server's read when the client went away (a no-op once the stream ended).
        rpc.cancel()
    return http


# Codes that end a stream mid-export without anything having failed, and their log level.
CLIENT_ENDED_CODES = {
    grpc.StatusCode.DEADLINE_EXCEEDED: (logging.INFO, "ended by the client's deadline"),
    grpc.StatusCode.CANCELLED: (logging.WARNING, "cancelled by the server"),
}


def _log_stream_ended(request_id: str, exc: grpc.aio.AioRpcError) -> None:
    """The client's own deadline (X-Request-Timeout, passed on) ending its export is not a
    failure of the service; nor is a cancel, which only a stopping server sends."""
    ended = CLIENT_ENDED_CODES.get(exc.code())
    if ended is None:
        log.error(
            "export stream failed after the response started request_id=%s code=%s",
            request_id,
            exc.code().name,
        )
    else:
        level, why = ended
        log.log(level, "export stream %s request_id=%s", why, request_id)


def _end_without_final_chunk(http: web.Request) -> None:
    # close() sends what is buffered, then closes: the client gets every row written so far
    # and then a connection that ends inside the chunked body.
    transport = http.transport
    if transport is not None:
        transport.close()
