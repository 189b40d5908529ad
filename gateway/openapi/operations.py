"""One operation per route: what the legacy page of each RPC documents beyond its route."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import grpc

from gateway.openapi import member
from gateway.openapi.examples import UPCOMING_EXAMPLE
from gateway.openapi.parameters import (
    GATEWAY_PARAMETERS,
    HEADER_PARAMETERS,
    path_parameters,
    query_parameters,
    request_body,
)
from gateway.openapi.responses import (
    GATEWAY_ERRORS,
    ErrorCase,
    error_responses,
    export_success,
    success_response,
)
from gateway.openapi.values import Schema, ref
from gateway.routes import Route

C = grpc.StatusCode


@dataclass(frozen=True)
class LegacyOperation:
    """What the legacy page of an RPC documents beyond its route."""

    tag: str
    summary: str
    description: str
    success: Callable[[], Schema]  # the 200 response object
    errors: tuple[ErrorCase, ...]
    authenticated: bool = True


_UNAVAILABLE = ErrorCase(
    C.UNAVAILABLE,
    "the database or the gRPC backend cannot be reached",
    "Service unavailable; try again shortly",
)
_DEADLINE = ErrorCase(C.DEADLINE_EXCEEDED, "the request took too long and was stopped")
_TOKEN_ERRORS = (
    ErrorCase(
        C.UNAUTHENTICATED,
        "the bearer token is missing, malformed, badly signed, expired, or names an "
        "organization that does not exist",
        "Unauthorized Access",
    ),
    ErrorCase(
        C.PERMISSION_DENIED,
        "the token is for another organization than the one in the URL",
        "Not Authorized",
    ),
)


LEGACY_OPERATIONS: Mapping[str, LegacyOperation] = {
    "Authenticate": LegacyOperation(
        tag="Authentication",
        summary="Exchange an access key for a bearer token",
        description="The token names the organization and expires 24 hours after issue; "
        "rotating the access key revokes it. `access_key` may also come in the query string.",
        success=success_response(
            "The token.",
            ref("Token"),
            {"token": {"value": {"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI1In0.c2lnbmF0dXJl"}}},
        ),
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "the body is neither JSON nor a form, or a timeout header is malformed",
                "Request body must be a JSON object or a form",
            ),
            ErrorCase(
                C.UNAUTHENTICATED, "the access key is wrong or missing", "Invalid Access Key"
            ),
            ErrorCase(
                C.RESOURCE_EXHAUSTED,
                "this client failed too often: try again after Retry-After seconds",
                "Too many failed attempts; try again in 6 seconds",
                retry_after=True,
            ),
            ErrorCase(C.INTERNAL, "an unexpected error (the message carries a request id)"),
            _UNAVAILABLE,
            _DEADLINE,
        ),
        authenticated=False,
    ),
    "ExportMeetings": LegacyOperation(
        tag="Meetings",
        summary="Export meetings: your columns, any date range",
        description="The meetings catalogue as stored, one object per meeting with exactly the "
        "requested columns. Without `page`/`per_page` every matching meeting comes in one "
        "response, streamed as it is read (ordered by start_time, then id); a stream that "
        "fails after the 200 was sent ends without its closing brackets, so a truncated "
        "export never parses as JSON. GET and POST are equivalent; POST takes the same "
        "names as a JSON object or a form.\n\n"
        "**Formats.** `format=csv|ndjson|json` (query or body) or `Accept` choose JSON (the "
        "default), CSV (a header row of the column labels, RFC 4180, UTF-8 with a byte order "
        "mark) or NDJSON (one JSON object per line, the same bytes as in the JSON export). "
        "CSV and NDJSON stream like JSON; paginated, they hold the page's rows and the "
        "metadata comes in `X-Page`, `X-Per-Page`, `X-Total-Pages`, `X-Total-Count` (and a "
        "`Link` header on GET). A CSV or NDJSON stream that fails after the 200 ends without "
        "the final chunk of the chunked body: HTTP clients report the truncation.\n\n"
        "**Compression.** With `Accept-Encoding: gzip` every format comes gzipped, still "
        "streamed (flushed batch by batch).",
        success=export_success,
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "a parameter is invalid (reporting_days, report_type, format, a date not in "
                "MM/DD/YYYY HH:MM AM/PM or not on the calendar, custom without both dates, "
                "CSV or NDJSON without a known column, a "
                "page that is not an integer, a body that is neither JSON nor a form, a "
                "timeout header that is malformed)",
                "Invalid reporting_days: accepted values are all, all_past, all_upcoming, "
                "today, current_month, last_week, last_month, custom",
            ),
            ErrorCase(
                C.INTERNAL,
                "an unexpected error: the message says what failed and carries a request id "
                "(also in the logs), never internals",
            ),
            *_TOKEN_ERRORS,
            _UNAVAILABLE,
            _DEADLINE,
        ),
    ),
    "ListUpcomingMeetings": LegacyOperation(
        tag="Meetings",
        summary="List upcoming meetings: the display feed",
        description="One page of the meetings that have not ended and are neither cancelled "
        "nor complete (a meeting in progress is listed), ordered by start_time, then id. "
        "Each meeting has every key, null where unset.",
        success=success_response(
            "One page of upcoming meetings.",
            ref("UpcomingMeetingsPage"),
            {"page": {"value": UPCOMING_EXAMPLE}},
        ),
        errors=(
            ErrorCase(
                C.INVALID_ARGUMENT,
                "meeting_series_id is not a positive integer, page/items is not an integer, "
                "or a timeout header is malformed",
                "Parameter meeting_series_id must be a positive integer",
            ),
            *_TOKEN_ERRORS,
            ErrorCase(C.INTERNAL, "an unexpected error (the message carries a request id)"),
            _UNAVAILABLE,
            _DEADLINE,
        ),
    ),
    member.RPC: LegacyOperation(
        tag="Meetings",
        summary=member.SUMMARY,
        description=member.DESCRIPTION,
        success=member.SUCCESS,
        errors=(
            member.INVALID,
            *_TOKEN_ERRORS,
            member.NOT_FOUND,
            ErrorCase(C.INTERNAL, "an unexpected error (the message carries a request id)"),
            _UNAVAILABLE,
            _DEADLINE,
        ),
    ),
}


def _operation_id(route: Route, routes: list[Route]) -> str:
    # An RPC with several bindings (GET and POST export) gets one id per method.
    siblings = [r for r in routes if r.rpc_name == route.rpc_name]
    if len(siblings) == 1:
        return _lower_camel(route.rpc_name)
    return _lower_camel(route.rpc_name) + route.http_method.title()


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def operation(route: Route, routes: list[Route]) -> Schema:
    try:
        legacy = LEGACY_OPERATIONS[route.rpc_name]
    except KeyError:
        raise LookupError(
            f"{route.rpc_name} has an HTTP route but no legacy shape in gateway.openapi"
        ) from None
    parameters = path_parameters(route)
    if not route.body:
        # A body route takes its parameters (the gateway's own too) in the body, whose values
        # replace the query's: a query parameter there is not one the document can promise.
        parameters += query_parameters(route)
        parameters += [
            {"$ref": f"#/components/parameters/{name}"}
            for name in GATEWAY_PARAMETERS.get(route.rpc_name, {})
        ]
    parameters += [{"$ref": f"#/components/parameters/{name}"} for name in HEADER_PARAMETERS]
    result: Schema = {
        "operationId": _operation_id(route, routes),
        "tags": [legacy.tag],
        "summary": legacy.summary,
        "description": legacy.description,
        "parameters": parameters,
    }
    if route.body:
        result["requestBody"] = request_body(route)
    responses = {
        **error_responses(route.rpc_name, legacy.errors),
        **{str(status): response() for status, response in GATEWAY_ERRORS.items()},
    }
    result["responses"] = {"200": legacy.success(), **dict(sorted(responses.items()))}
    if not legacy.authenticated:
        result["security"] = []
    if route.rpc_name == member.RPC:
        member.amend_operation(result)
    return result
