"""The one table from gRPC status codes to HTTP statuses and the legacy {"error": ...} body."""

from __future__ import annotations

from types import MappingProxyType

import grpc
import orjson
from aiohttp import web


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


def error_response(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps({"error": message}), content_type="application/json"
    )


def rpc_error_response(
    rpc_name: str, code: grpc.StatusCode, server_message: str | None, request_id: str
) -> web.Response:
    """The legacy error response for an RPC that ended with `code`."""
    return error_response(
        http_status(rpc_name, code), error_message(code, server_message, request_id)
    )
