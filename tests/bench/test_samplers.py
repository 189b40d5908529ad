"""The benchmark's open-loop client: every arrival answered and timed, failures counted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bench.samplers import poisson_load

TOKEN = "t0ken"


@pytest.fixture
async def base() -> AsyncIterator[str]:
    """A server answering /ok with 200 when the bearer token is sent, and /missing with 404."""
    seen: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        status = 200 if request.headers.get("Authorization") == f"Bearer {TOKEN}" else 401
        return web.json_response({"meetings": ["x" * 300]}, status=status)

    app = web.Application()
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_every_arrival_is_answered_on_a_few_keep_alive_connections(base: str) -> None:
    result = await poisson_load(f"{base}/ok?page=1", TOKEN, 200.0, 4, 1.0, seed=3)
    assert result["errors"] == 0
    assert 120 <= result["requests"] <= 300  # a Poisson count around 200
    assert result["p50_seconds"] is not None and result["p50_seconds"] < 0.5
    assert result["client_cpu_seconds"] > 0


async def test_answers_that_are_not_200_count_as_errors(base: str) -> None:
    refused = await poisson_load(f"{base}/ok", "wrong", 100.0, 2, 0.5, seed=1)
    assert refused["errors"] == refused["requests"] > 0
    missing = await poisson_load(f"{base}/missing", TOKEN, 100.0, 2, 0.5, seed=1)
    assert missing["errors"] == missing["requests"] > 0
