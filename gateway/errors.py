"""The one table from gRPC status codes to HTTP statuses and the legacy {"error": ...} body."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import grpc
import orjson
from aiohttp import web
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


class BindError(Exception):
    """The HTTP request cannot be turned into an RPC request (reported as INVALID_ARGUMENT)."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


C = grpc.StatusCode
HTTP_STATUS_FOR_CODE = MappingProxyType(
    {
        C.OK: 200,
        C.INVALID_ARGUMENT: 400,
        C.FAILED_PRECONDITION: 400,
        C.OUT_OF_RANGE: 400,
        C.UNAUTHENTICATED: 401,
        # The legacy pages answer 401 {"error": "Not Authorized"} for another organization's id.
        C.PERMISSION_DENIED: 401,
        C.NOT_FOUND: 404,
        C.ALREADY_EXISTS: 409,
        C.ABORTED: 409,
        C.RESOURCE_EXHAUSTED: 429,
        C.CANCELLED: 499,
        C.UNKNOWN: 500,
        C.INTERNAL: 500,
        C.DATA_LOSS: 500,
        C.UNIMPLEMENTED: 501,
        C.UNAVAILABLE: 503,
        C.DEADLINE_EXCEEDED: 504,
    }
)

# Where a legacy page documents another status for an RPC, it is named here.
LEGACY_STATUS_OVERRIDES = MappingProxyType(
    {
        # Export Meetings: "400 Bad Request ... for an unexpected error".
        "ExportMeetings": {C.INTERNAL: 400, C.UNKNOWN: 400},
        "StreamExportMeetings": {C.INTERNAL: 400, C.UNKNOWN: 400},
        # Upcoming Meetings: "422 Unprocessable Entity" for a bad parameter.
        "ListUpcomingMeetings": {C.INVALID_ARGUMENT: 422},
        # Member's Upcoming Meetings: its sibling page, the same 422.
        "ListMemberUpcomingMeetings": {C.INVALID_ARGUMENT: 422},
    }
)

# Codes whose server message is written for callers; for others the gateway words its own,
# so that transport details (addresses, resolver errors) never reach a partner.
_CALLER_MESSAGES = frozenset(
    {
        C.INVALID_ARGUMENT,
        C.FAILED_PRECONDITION,
        C.OUT_OF_RANGE,
        C.UNAUTHENTICATED,
        C.PERMISSION_DENIED,
        C.NOT_FOUND,
        C.INTERNAL,
        C.UNIMPLEMENTED,
        C.RESOURCE_EXHAUSTED,
    }
)
_GATEWAY_MESSAGES = MappingProxyType(
    {
        C.UNAVAILABLE: "Service unavailable; try again shortly",
        C.DEADLINE_EXCEEDED: "The request took too long and was stopped",
        C.CANCELLED: "The request was cancelled",
    }
)


def http_status(rpc_name: str, code: grpc.StatusCode) -> int:
    overrides = LEGACY_STATUS_OVERRIDES.get(rpc_name, {})
    return overrides.get(code, HTTP_STATUS_FOR_CODE.get(code, 500))


def error_message(code: grpc.StatusCode, server_message: str | None, request_id: str) -> str:
    if code in _CALLER_MESSAGES and server_message:
        return server_message
    return _GATEWAY_MESSAGES.get(code, f"Unexpected error (request id {request_id})")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"error": message}),
        content_type="application/json",
        headers=headers,
    )


# Headers of aiohttp's own error answers worth keeping (405 must say what is allowed).
_KEPT_HEADERS = ("Allow", "Retry-After")


def http_exception_response(exc: web.HTTPException) -> web.Response:
    """aiohttp's own 4xx/5xx answer (404, 405, 413, ...) in the legacy error shape."""
    headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
    return error_response(exc.status, exc.reason, headers or None)


def retry_delay(error: grpc.aio.AioRpcError) -> float | None:
    """The RetryInfo delay (seconds) among the status details of a failed call, if any."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except DecodeError:
            return None
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info):
                return float(info.retry_delay.ToTimedelta().total_seconds())
    return None


def retry_after_header(seconds: float) -> str:
    """The Retry-After value (whole seconds, at least 1) for a wait of `seconds`."""
    return str(max(1, math.ceil(seconds)))


def rpc_error_response(
    rpc_name: str,
    code: grpc.StatusCode,
    server_message: str | None,
    request_id: str,
    *,
    retry_after: float | None = None,
) -> web.Response:
    """The legacy error response for an RPC that ended with `code`; a RetryInfo delay becomes
    a Retry-After header (whole seconds, at least 1)."""
    headers = None
    if retry_after is not None:
        headers = {"Retry-After": retry_after_header(retry_after)}
    return error_response(
        http_status(rpc_name, code), error_message(code, server_message, request_id), headers
    )
