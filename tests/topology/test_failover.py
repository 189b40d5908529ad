"""Two gRPC server processes behind one gateway process: one server is killed mid-stream.

Runs on the test database (PostgreSQL with MEETINGS_TEST_DATABASE_URL, else a SQLite file
that the processes share through WAL).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import peewee

from store.models import Organization
from store.organizations import create_organization
from tests.topology.launch import (
    GRPC_READY,
    HTTP_READY,
    SECRET_ENV,
    accepted_connections,
    bytes_written,
    launched,
    wait_until,
)

SECRET = SECRET_ENV["MEETINGS_JWT_SECRET"]
CONCURRENCY = 4
ROUNDS_BEFORE_KILL = 30
# After the kill, requests may fail for this long (those in flight on the killed server).
WINDOW = 2.0
# ... and after the window, keep sending for at least this long and this many rounds.
SETTLE = 3.0
MIN_ROUNDS_AFTER_WINDOW = 40
# Bounds: the stream stops here whatever happens.
MAX_ROUNDS = 1500
DEADLINE = 45.0
UNAVAILABLE = (503, {"error": "Service unavailable; try again shortly"})


@dataclass(frozen=True)
class Answer:
    check: str
    started: float
    ended: float
    status: int
    body: Any
    correct: bool


@dataclass
class Stream:
    acme_id: int
    acme_key: str
    acme_token: str
    globex_id: int
    base: str
    answers: list[Answer]
    rounds: int = 0
    kill_time: float | None = None

    def rounds_after_window(self) -> int:
        if self.kill_time is None:
            return 0
        cutoff = self.kill_time + WINDOW
        return sum(1 for a in self.answers if a.check == "authenticate" and a.started >= cutoff)

    def finished(self, began: float) -> bool:
        now = time.monotonic()
        if self.rounds >= MAX_ROUNDS or now - began > DEADLINE:
            return True
        return (
            self.kill_time is not None
            and now > self.kill_time + WINDOW + SETTLE
            and self.rounds_after_window() >= MIN_ROUNDS_AFTER_WINDOW
        )


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[float, float, int, Any]:
    started = time.monotonic()
    async with session.request(method, url, **kwargs) as response:
        body = await response.json(content_type=None)
        return started, time.monotonic(), response.status, body


def _token_names(body: dict[str, Any], org_id: int) -> bool:
    """The body's token is signed with the shared secret and names this organization."""
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    return bool(claims["org"] == org_id)


async def one_round(session: aiohttp.ClientSession, stream: Stream) -> None:
    """Five requests with known answers: two key checks and three token checks."""
    base = stream.base
    bearer = {"Authorization": f"Bearer {stream.acme_token}"}
    checks: list[tuple[str, str, str, dict[str, Any], Callable[[int, Any], bool]]] = [
        (
            "authenticate",
            "POST",
            f"{base}/api/v2/authenticate",
            {"json": {"access_key": stream.acme_key}},
            lambda s, b: s == 200 and list(b) == ["token"] and _token_names(b, stream.acme_id),
        ),
        (
            "wrong key",
            "POST",
            f"{base}/api/v2/authenticate",
            {"json": {"access_key": "x" * 24}},
            lambda s, b: (s, b) == (401, {"error": "Invalid Access Key"}),
        ),
        (
            "another organization",
            "GET",
            f"{base}/api/v2/organizations/{stream.globex_id}/upcoming_meetings",
            {"headers": bearer},
            lambda s, b: (s, b) == (401, {"error": "Not Authorized"}),
        ),
        (
            "bad token",
            "GET",
            f"{base}/api/v2/organizations/{stream.acme_id}/upcoming_meetings",
            {"headers": {"Authorization": "Bearer not.a.token"}},
            lambda s, b: (s, b) == (401, {"error": "Unauthorized Access"}),
        ),
        (
            # The token is accepted; the endpoint itself may still be unimplemented (501).
            "own organization",
            "GET",
            f"{base}/api/v2/organizations/{stream.acme_id}/upcoming_meetings",
            {"headers": bearer},
            lambda s, b: s in (200, 501),
        ),
    ]
    for name, method, url, kwargs, expected in checks:
        started, ended, status, body = await _call(session, method, url, **kwargs)
        correct = bool(expected(status, body))
        stream.answers.append(Answer(name, started, ended, status, body, correct))
    stream.rounds += 1


def allowed_failure(answer: Answer, kill_time: float) -> bool:
    """A 503 for a request that was in flight at the kill or began within the window."""
    return (
        (answer.status, answer.body) == UNAVAILABLE
        and answer.ended >= kill_time
        and answer.started < kill_time + WINDOW
    )


async def test_gateway_keeps_answering_correctly_when_one_of_two_grpc_servers_is_killed(
    database_url: str, db: peewee.Database, acme: tuple[Organization, str]
) -> None:
    acme_org, acme_key = acme
    globex, _ = create_organization("Globex")
    db.close()
    common = ("--database", database_url)
    with (
        launched("grpc-server", *common, "--grpc", "127.0.0.1:0", ready=GRPC_READY) as first,
        launched("grpc-server", *common, "--grpc", "127.0.0.1:0", ready=GRPC_READY) as second,
        launched(
            "gateway",
            "--upstream",
            f"127.0.0.1:{first.port()}",
            "--upstream",
            f"127.0.0.1:{second.port()}",
            "--http",
            "127.0.0.1:0",
            ready=HTTP_READY,
        ) as gateway,
    ):
        base = f"http://127.0.0.1:{gateway.port()}"
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            _, _, status, body = await _call(
                session, "POST", f"{base}/api/v2/authenticate", json={"access_key": acme_key}
            )
            assert status == 200, body
            stream = Stream(acme_org.id, acme_key, body["token"], globex.id, base, [])

            # Round robin connects to every upstream: both servers hold a gateway connection.
            await asyncio.to_thread(
                wait_until,
                lambda: (
                    accepted_connections(first.port()) > 0
                    and accepted_connections(second.port()) > 0
                ),
                10,
                "the gateway to connect to both gRPC servers",
            )

            written_at_start = [bytes_written(first.pid), bytes_written(second.pid)]
            written_before_kill: list[int] = []

            async def kill_when_due() -> None:
                while stream.rounds < ROUNDS_BEFORE_KILL and not stream.finished(began):
                    await asyncio.sleep(0.01)
                written_before_kill.extend([bytes_written(first.pid), bytes_written(second.pid)])
                os.kill(first.pid, signal.SIGKILL)
                stream.kill_time = time.monotonic()

            async def client() -> None:
                while not stream.finished(began):
                    await one_round(session, stream)

            began = time.monotonic()
            await asyncio.gather(kill_when_due(), *(client() for _ in range(CONCURRENCY)))

        assert first.process.wait(timeout=10) == -signal.SIGKILL
        # Round robin: both servers were answering requests when one was killed.
        assert all(b > a for a, b in zip(written_at_start, written_before_kill, strict=True))
        kill_time = stream.kill_time
        assert kill_time is not None
        after_window = [a for a in stream.answers if a.started >= kill_time + WINDOW]
        wrong = [a for a in stream.answers if not a.correct and not allowed_failure(a, kill_time)]
        assert wrong == [], f"{len(wrong)} wrong answers, first: {wrong[:3]}"
        assert all(a.correct for a in after_window)
        assert len(after_window) >= 5 * MIN_ROUNDS_AFTER_WINDOW
        assert sum(a.started < kill_time for a in stream.answers) >= 5 * ROUNDS_BEFORE_KILL
        # The survivors stop cleanly.
        assert gateway.stop() == 0
        assert second.stop() == 0
