"""The walk of one request: route -> path, then query, then body -> RPC -> response or error."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import descriptor, message_factory

from gateway.calls import REQUEST_ID, Call
from gateway.errors import BindError, retry_delay, rpc_error_response
from gateway.legacy import ENDPOINTS
from gateway.limits import requested_timeout
from gateway.params import INT64_MAX, read_params
from gateway.routes import Route
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc

log = logging.getLogger("meetings.gateway")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_INT_TYPES = (
    descriptor.FieldDescriptor.TYPE_INT64,
    descriptor.FieldDescriptor.TYPE_INT32,
    descriptor.FieldDescriptor.TYPE_UINT64,
    descriptor.FieldDescriptor.TYPE_UINT32,
)
# Forwarded to the service as gRPC metadata.
FORWARDED_HEADERS = ("authorization",)
FORWARDED_FOR = "x-forwarded-for"
# Longer X-Forwarded-For chains are cut to their last hops (the ones that count).
MAX_FORWARDED_HOPS = 16
BAD_VALUE_MESSAGE = "A request parameter has a value the service cannot take"


def path_id(raw: str) -> int | None:
    """The id a path segment holds: ASCII digits of a value a gRPC caller can send too (up
    to int64's maximum), else None. Leading zeros are read past without converting them."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(INT64_MAX)) or int(digits) > INT64_MAX:
        return None
    return int(digits)


def bind_path(route: Route, request_message: Any, match_info: dict[str, str]) -> None:
    """Path variables into their fields; a non-numeric id is a bad request, not a 404."""
    for name in route.path_fields:
        field = request_message.DESCRIPTOR.fields_by_name[name]
        raw = match_info[name]
        if field.type in _INT_TYPES:
            number = path_id(raw)
            if number is None:
                raise BindError(name, f"Path parameter {name} must be a positive integer")
            setattr(request_message, name, number)
        else:
            setattr(request_message, name, raw)


def metadata_safe(value: str) -> bool:
    """Whether a header value can travel as gRPC metadata (printable ASCII only)."""
    return all(" " <= char <= "~" for char in value)


def forwarded_for(http: web.BaseRequest) -> str | None:
    """The X-Forwarded-For chain to hand on: what came in, then the address this gateway saw.

    The gRPC server decides which hops to believe (server.peers), so nothing is judged here.
    """
    headers = http.headers.getall("X-Forwarded-For", ())
    hops = [hop.strip() for header in headers for hop in header.split(",")]
    if http.remote:
        hops.append(http.remote)
    hops = [hop for hop in hops if hop and metadata_safe(hop) and " " not in hop and len(hop) <= 64]
    return ", ".join(hops[-MAX_FORWARDED_HOPS:]) or None


def make_handler(
    route: Route,
    stub: Callable[[], pb_grpc.MeetingsServiceStub],
    timeout: float | None,
) -> Handler:
    endpoint = ENDPOINTS[route.rpc_name]
    request_class = message_factory.GetMessageClass(route.rpc.input_type)

    async def handle(http: web.Request) -> web.StreamResponse:
        request_id = http[REQUEST_ID]
        metadata = [("x-request-id", request_id)]
        # A value gRPC cannot carry (a control character, non-ASCII bytes) cannot be a token
        # either: it is left out, and the call is answered as one without a token (401).
        metadata += [
            (h, http.headers[h])
            for h in FORWARDED_HEADERS
            if h in http.headers and metadata_safe(http.headers[h])
        ]
        chain = forwarded_for(http)
        if chain:
            metadata.append((FORWARDED_FOR, chain))
        try:
            deadline = requested_timeout(http)
            message = request_class()
            bind_path(route, message, dict(http.match_info))
            params = await read_params(http)
            call = Call(http, stub(), tuple(metadata), request_id, timeout, deadline)
            try:
                bound = endpoint.bind(message, params, http.headers)
            except (ValueError, TypeError, OverflowError) as exc:
                # A value that passed the legacy checks but not protobuf's (a hostile one).
                log.info("unbindable request request_id=%s: %s", request_id, exc)
                raise BindError("body", BAD_VALUE_MESSAGE) from exc
            return await endpoint.respond(call, bound)
        except BindError as exc:
            return rpc_error_response(
                route.rpc_name, grpc.StatusCode.INVALID_ARGUMENT, exc.description, request_id
            )
        except grpc.aio.AioRpcError as exc:
            return rpc_error_response(
                route.rpc_name,
                exc.code(),
                exc.details(),
                request_id,
                retry_after=retry_delay(exc),
            )

    return handle
