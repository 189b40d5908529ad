"""The one middleware that turns exceptions into answers: {"error": ...}, for every route.

Routes are added to a real gateway app (no gRPC server is needed: none of them calls one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.limits import DEFAULT_MAX_BODY_BYTES


async def _conflict(request: web.Request) -> web.StreamResponse:
    raise web.HTTPConflict(reason="Already there")


async def _slow_down(request: web.Request) -> web.StreamResponse:
    raise web.HTTPTooManyRequests(headers={"Retry-After": "7", "X-Internal": "no"})


async def _moved(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(location="/elsewhere")


async def _broken(request: web.Request) -> web.StreamResponse:
    raise RuntimeError("secret detail")


async def _read_body(request: web.Request) -> web.StreamResponse:
    await request.read()
    return web.Response(text="read")


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = create_app("127.0.0.1:1")
    app.router.add_get("/test/conflict", _conflict)
    app.router.add_get("/test/slow-down", _slow_down)
    app.router.add_get("/test/moved", _moved)
    app.router.add_get("/test/broken", _broken)
    app.router.add_post("/test/read", _read_body)
    return await aiohttp_client(app)


async def test_an_http_error_raised_by_a_route_is_json_with_its_reason(client: Any) -> None:
    response = await client.get("/test/conflict")
    assert response.status == 409
    assert response.content_type == "application/json"
    assert orjson.loads(await response.read()) == {"error": "Already there"}


async def test_retry_after_is_kept_and_other_headers_are_not(client: Any) -> None:
    response = await client.get("/test/slow-down")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert "X-Internal" not in response.headers
    assert orjson.loads(await response.read()) == {"error": "Too Many Requests"}


async def test_a_redirect_is_answered_as_a_redirect(client: Any) -> None:
    response = await client.get("/test/moved", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/elsewhere"
    assert response.headers["X-Request-Id"]


async def test_an_unexpected_exception_is_a_500_naming_the_request_id(client: Any) -> None:
    response = await client.get("/test/broken", headers={"X-Request-Id": "trace-1"})
    assert response.status == 500
    body = orjson.loads(await response.read())
    assert body == {"error": "Unexpected error (request id trace-1)"}
    assert response.headers["X-Request-Id"] == "trace-1"


async def test_a_chunked_body_past_the_limit_is_the_gateways_413(client: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read until past the limit
        for _ in range(DEFAULT_MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = await client.post("/test/read", data=chunks())
    assert response.status == 413
    assert orjson.loads(await response.read()) == {
        "error": f"The request body is too large (at most {DEFAULT_MAX_BODY_BYTES} bytes)"
    }


async def test_aiohttp_404_and_405_are_json(client: Any) -> None:
    missing = await client.get("/test/none")
    assert (missing.status, orjson.loads(await missing.read())) == (404, {"error": "Not Found"})
    wrong = await client.delete("/test/conflict")
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "GET,HEAD"
    assert orjson.loads(await wrong.read()) == {"error": "Method Not Allowed"}
