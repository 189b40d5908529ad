"""What aiohttp's HTTP parser refuses, before any middleware runs: an over-long request line,
header or header name, too many headers, a malformed line. Each is answered in JSON, names the
limit it crossed, and repeats nothing the request held (a bearer token least of all).

Raw sockets to a gateway served as `meetings serve` serves it (GatewayRunner), and once to
`meetings serve` itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import orjson
import peewee
import pytest
from aiohttp import web

from cli.serve import site_port
from gateway.app import create_app
from gateway.handler import Handler
from gateway.limits import (
    DEFAULT_MAX_URL_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    GatewayLimits,
    GatewayRunner,
)
from tests.processes import Served, serving

TOKEN = b"SeCrEtToKeN" * 1819  # 20,009 bytes, each part recognisable in an echo
LINE_LIMIT = GatewayLimits().handler_args()["max_line_size"]
HEADER_TOO_LONG = {"error": f"A request header is too long (at most {MAX_HEADER_BYTES} bytes)"}
LINE_TOO_LONG = {"error": f"The request line is too long (at most {LINE_LIMIT} bytes)"}
TOO_MANY = {"error": f"Too many request headers (at most {MAX_HEADERS})"}
NOT_HTTP = {"error": "The request is not valid HTTP"}


def _request(line: bytes, *headers: bytes) -> bytes:
    return line + b"\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


UPCOMING = b"GET /api/v2/organizations/1/upcoming_meetings HTTP/1.1"
CASES = {
    "a 20,000-byte bearer token": (
        _request(UPCOMING, b"Authorization: Bearer " + TOKEN),
        431,
        HEADER_TOO_LONG,
        b"SeCrEt",
    ),
    "an over-long request line": (
        _request(b"GET /?q=" + b"SeCrEt" * (LINE_LIMIT // 6 + 1) + b" HTTP/1.1"),
        400,
        LINE_TOO_LONG,
        b"SeCrEt",
    ),
    "an over-long header name": (
        _request(UPCOMING, b"X-" + b"SeCrEt" * 1400 + b": 1"),
        431,
        HEADER_TOO_LONG,
        b"SeCrEt",
    ),
    "too many headers": (
        _request(UPCOMING, *(b"X-SeCrEt-%d: 1" % n for n in range(MAX_HEADERS + 1))),
        431,
        TOO_MANY,
        b"SeCrEt",
    ),
    "a malformed header line": (
        _request(UPCOMING, b"SeCrEt without a colon"),
        400,
        NOT_HTTP,
        b"SeCrEt",
    ),
    "a malformed request line": (b"G(T /SeCrEt HTTP/1.1\r\n\r\n", 400, NOT_HTTP, b"SeCrEt"),
}


async def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body, raw


@pytest.fixture
async def gateway_port() -> AsyncIterator[int]:
    # No gRPC server: nothing here reaches one.
    runner = GatewayRunner(create_app("127.0.0.1:1"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    try:
        await site.start()
        yield site_port(site, 0)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("case", list(CASES))
async def test_a_refused_request_is_json_and_repeats_nothing(
    gateway_port: int, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    request, status, error, secret = CASES[case]
    caplog.set_level(logging.DEBUG)
    got_status, headers, body, raw = await _exchange(gateway_port, request)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    assert orjson.loads(body) == error
    assert secret not in raw
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert secret.decode() not in logged
    assert "Error handling request" not in logged  # not a server error


async def test_requests_within_the_limits_are_served(gateway_port: int) -> None:
    # Host, Authorization, Connection and the pads: MAX_HEADERS in all.
    headers = [b"X-Pad-%d: %s" % (n, b"v" * 100) for n in range(MAX_HEADERS - 3)]
    status, _, body, _ = await _exchange(
        gateway_port,
        _request(
            b"GET /openapi.json HTTP/1.1",
            b"Authorization: " + b"t" * MAX_HEADER_BYTES,
            b"Connection: close",
            *headers,
        ),
    )
    assert status == 200
    assert orjson.loads(body)["openapi"] == "3.1.0"


async def test_a_url_over_our_limit_but_under_the_parsers_is_still_our_414(
    gateway_port: int,
) -> None:
    query = b"a" * (DEFAULT_MAX_URL_BYTES + 1)
    request = _request(b"GET /openapi.json?q=" + query + b" HTTP/1.1", b"Connection: close")
    status, headers, body, _ = await _exchange(gateway_port, request)
    assert (status, headers["content-type"]) == (414, "application/json")
    assert orjson.loads(body) == {
        "error": f"The URL is too long (at most {DEFAULT_MAX_URL_BYTES} bytes)"
    }


@pytest.fixture
def served(db: peewee.Database, database_url: str) -> Iterator[Served]:
    db.close()
    with serving(database_url, {"MEETINGS_JWT_SECRET": "s" * 32}) as running:
        yield running


async def test_meetings_serve_answers_an_oversized_token_in_json(served: Served) -> None:
    request, status, error, secret = CASES["a 20,000-byte bearer token"]
    got_status, headers, body, raw = await _exchange(served.http_port, request)
    assert (got_status, headers["content-type"], orjson.loads(body)) == (
        status,
        "application/json",
        error,
    )
    assert secret not in raw


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (RuntimeError("SeCrEt"), 500, "Internal Server Error"),
        (TimeoutError(), 504, "Gateway Timeout"),
    ],
)
async def test_a_failure_past_every_middleware_is_json_too(
    error: Exception, status: int, message: str
) -> None:
    @web.middleware
    async def failing(request: web.Request, handler: Handler) -> web.StreamResponse:
        raise error

    app = create_app("127.0.0.1:1")
    app.middlewares.insert(0, failing)  # outside the one that shapes errors
    runner = GatewayRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    try:
        await site.start()
        request = _request(b"GET /openapi.json HTTP/1.1", b"Connection: close")
        got, headers, body, raw = await _exchange(site_port(site, 0), request)
    finally:
        await runner.cleanup()
    assert (got, headers["content-type"]) == (status, "application/json")
    assert orjson.loads(body) == {"error": message}
    assert b"SeCrEt" not in raw
