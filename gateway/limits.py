"""Request limits of the gateway: URL and body sizes, and the caller's deadline.

- A URL (path and query string) longer than `max_url_bytes`: 414 {"error": ...}. aiohttp's
  own parser takes request lines up to 8 x that (handler_args()); past that the parser refuses
  the request before any middleware runs, and GatewayRunner's connections answer a 400.
- A header line over MAX_HEADER_BYTES, or more than MAX_HEADERS headers: 431; any other request
  the parser refuses: 400. Each {"error": ...} names the limit, never what the request held
  (aiohttp's own plain-text answer repeats the start of the line, a bearer token's included).
- A body longer than `max_body_bytes` (by its Content-Length, or once read past it when it
  is chunked): 413 {"error": ...}.
- aiohttp's own errors (404, 405 with its Allow header, ...) in the same shape.
- `X-Request-Timeout: <seconds>` or `Grpc-Timeout: <digits><H|M|S|m|u|n>` sets the deadline
  of the call to the gRPC service, up to MAX_TIMEOUT_SECONDS; without either, a unary call
  gets the gateway's configured timeout and a streamed export none.

The app's one middleware (gateway.app) applies the URL and body limits and shapes every error.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from gateway.errors import BindError, error_response

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_URL_BYTES = 8 * 1024
# aiohttp's parser limits on headers (its defaults, made explicit): a longer header line, or
# more of them, is a 431.
MAX_HEADER_BYTES = 8190
MAX_HEADERS = 128
MAX_TIMEOUT_SECONDS = 3600.0
TIMEOUT_HEADER = "X-Request-Timeout"
GRPC_TIMEOUT_HEADER = "Grpc-Timeout"
_GRPC_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
GRPC_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_SECONDS = re.compile(r"[0-9]{1,7}(\.[0-9]{1,6})?")
TIMEOUT_MESSAGE = (
    f"{TIMEOUT_HEADER} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}"
)


@dataclass(frozen=True)
class GatewayLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_url_bytes: int = DEFAULT_MAX_URL_BYTES

    @classmethod
    def from_env(cls) -> GatewayLimits:
        """MEETINGS_MAX_BODY_BYTES and MEETINGS_MAX_URL_BYTES, else the defaults."""
        return cls(
            max_body_bytes=_positive(os.environ.get("MEETINGS_MAX_BODY_BYTES"))
            or DEFAULT_MAX_BODY_BYTES,
            max_url_bytes=_positive(os.environ.get("MEETINGS_MAX_URL_BYTES"))
            or DEFAULT_MAX_URL_BYTES,
        )

    def url_too_long(self) -> web.Response:
        return error_response(414, f"The URL is too long (at most {self.max_url_bytes} bytes)")

    def body_too_large(self) -> web.Response:
        return error_response(
            413, f"The request body is too large (at most {self.max_body_bytes} bytes)"
        )

    def refusal(self, request: web.BaseRequest) -> web.Response | None:
        """The answer to a request over a limit its head shows (its URL, its declared body
        size), or None. A chunked body read past the limit raises aiohttp's 413 instead."""
        if len(request.raw_path) > self.max_url_bytes:
            return self.url_too_long()
        if (request.content_length or 0) > self.max_body_bytes:
            return self.body_too_large()
        return None

    def handler_args(self) -> dict[str, Any]:
        """aiohttp's own parser limits. The request line's is above our URL limit, so that ours
        answers first (414), and never the header lines' (it is how a refusal tells them apart).
        """
        return {
            "max_line_size": max(2 * MAX_HEADER_BYTES, 8 * self.max_url_bytes),
            "max_field_size": MAX_HEADER_BYTES,
            "max_headers": MAX_HEADERS,
        }


def _positive(raw: str | None) -> int | None:
    value = (raw or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def requested_timeout(request: web.BaseRequest) -> float | None:
    """The caller's deadline in seconds, or None; a malformed one is a BindError."""
    raw = request.headers.get(TIMEOUT_HEADER)
    if raw is not None:
        text = raw.strip()
        if not _SECONDS.fullmatch(text):
            raise BindError(TIMEOUT_HEADER, TIMEOUT_MESSAGE)
        seconds = float(text)
    else:
        raw = request.headers.get(GRPC_TIMEOUT_HEADER)
        if raw is None:
            return None
        match = _GRPC_TIMEOUT.fullmatch(raw.strip())
        if match is None:
            raise BindError(GRPC_TIMEOUT_HEADER, TIMEOUT_MESSAGE)
        seconds = int(match.group(1)) * GRPC_TIMEOUT_UNITS[match.group(2)]
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        raise BindError(TIMEOUT_HEADER, TIMEOUT_MESSAGE)
    return seconds


def parser_refusal(exc: HttpProcessingError) -> web.Response:
    """The answer to a request aiohttp's parser refused: the limit it crossed, never its bytes."""
    if isinstance(exc, LineTooLong):
        limit = exc.args[1]  # LineTooLong(line, limit, actual_size)
        if limit == MAX_HEADER_BYTES:
            return error_response(
                431, f"A request header is too long (at most {MAX_HEADER_BYTES} bytes)"
            )
        return error_response(400, f"The request line is too long (at most {limit} bytes)")
    if "too many headers" in exc.message.lower():
        return error_response(431, f"Too many request headers (at most {MAX_HEADERS})")
    return error_response(400, "The request is not valid HTTP")


class JsonErrorRequestHandler(web.RequestHandler):
    """A connection whose own answers (what the parser refuses, a failure past the
    middlewares) are in the {"error": ...} shape like every other."""

    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, HttpProcessingError):
            # The client's mistake, before the app saw anything: one line, without the
            # offending bytes (aiohttp logs them with a traceback, at ERROR).
            response = parser_refusal(exc)
            _LOGGER.info("refused a request from %s: %s", request.remote, response.text)
        else:
            # aiohttp logs the failure, and raises when part of a response has left already.
            super().handle_error(request, status, exc, message)
            response = error_response(status, HTTPStatus(status).phrase)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """web.AppRunner whose connections answer what aiohttp's parser refuses in JSON.

    aiohttp has no hook for those answers (aio-libs/aiohttp#3287): its RequestHandler makes
    them before any middleware runs, so the runner builds connections of the subclass above.
    """

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # the app's, after its startup
        return _JsonErrorServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
