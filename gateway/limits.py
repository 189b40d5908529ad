"""Request limits of the gateway: URL and body sizes, and the caller's deadline.

- A URL (path and query string) longer than `max_url_bytes`: 414 {"error": ...}. aiohttp's
  own parser takes request lines up to 8 x that (handler_args()); past that it answers a
  plain-text 400 itself, before any handler runs.
- A body longer than `max_body_bytes` (by its Content-Length, or once read past it when it
  is chunked): 413 {"error": ...}.
- aiohttp's own errors (404, 405 with its Allow header, ...) in the same shape, by the one
  middleware that shapes errors (gateway.app).
- `X-Request-Timeout: <seconds>` or `Grpc-Timeout: <digits><H|M|S|m|u|n>` sets the deadline
  of the call to the gRPC service, up to MAX_TIMEOUT_SECONDS; without either, a unary call
  gets the gateway's configured timeout and a streamed export none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.errors import BindError, error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_URL_BYTES = 8 * 1024
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

    def handler_args(self) -> dict[str, Any]:
        """aiohttp's own parser limits: above ours, so that ours answer first, in JSON."""
        return {"max_line_size": max(8190, 8 * self.max_url_bytes)}


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


def make_limits_middleware(limits: GatewayLimits) -> Any:
    @web.middleware
    async def enforce_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        if len(request.raw_path) > limits.max_url_bytes:
            return limits.url_too_long()
        if (request.content_length or 0) > limits.max_body_bytes:
            return limits.body_too_large()
        # A chunked body read past the limit raises aiohttp's 413: gateway.app shapes it.
        return await handler(request)

    return enforce_limits


def add_limits(app: web.Application, limits: GatewayLimits) -> None:
    """Enforce `limits` on every request of `app` (innermost middleware)."""
    app.middlewares.append(make_limits_middleware(limits))
