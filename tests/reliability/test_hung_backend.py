"""A gRPC backend that hangs (SIGSTOP: its connections stay open, nothing answers): the gateway
answers new requests 503 {"error": ...} within a few seconds, not at their deadline (or never,
for an export stream, which has none), and serves again by itself once the backend resumes.

The keepalive that notices the hang must not cost a healthy connection anything: a stream
that is quiet for seconds (a slow query) is pinged, answered, and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import peewee
import pytest

from gateway.app import create_app
from server import export as server_export
from store.loader import load_fixture
from store.models import Organization
from tests.export.conftest import EXPORT_URL, document, many_meetings, rest_headers
from tests.topology.launch import GRPC_READY, launched, wait_until

# Fault injection with real processes and signals: `make test-faults` (see the README).
pytestmark = pytest.mark.faults

UNAVAILABLE = {"error": "Service unavailable; try again shortly"}
# The first request after the hang waits for the gateway to notice it: a keepalive ping
# after 0.5 s of silence, unanswered for 1.5 s, then its retry waits for a new connection
# that gets no HTTP/2 handshake within 1.5 s (measured: 3.4-3.8 s). Once the hang is known,
# new requests are answered at once (measured: 0.35 s, the retries' backoff). Both bounds
# leave room for a loaded machine, and stay far below the unary deadline (30 s).
HUNG_NOTICED_SECONDS = 7.0
HUNG_ANSWER_SECONDS = 2.5
# After SIGCONT: the gateway reconnects within its reconnect backoff (at most 5 s).
RECOVERY_SECONDS = 30.0
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=60)
# Several keepalive pings of the gateway's channel with nothing else on the connection: a
# server that refused them would drop the connection after about four seconds (measured:
# 3 s of quiet do not show it, 5 s do).
QUIET_SECONDS = 5.0
# Two batches of the stream (2,000 rows each) and one more row.
ROWS = 4_001


def all_threads_stopped(pid: int) -> bool:
    """Whether every thread of `pid` has stopped: a SIGSTOP stops them one by one, and on a
    loaded machine the others may still answer a request meanwhile."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            states.append((task / "stat").read_text().rpartition(")")[2].split()[0])
    return bool(states) and all(state in ("T", "t") for state in states)


async def _timed(gateway: Any, method: str, path: str, **kwargs: Any) -> tuple[float, int, Any]:
    started = time.monotonic()
    response = await gateway.request(method, path, timeout=CLIENT_TIMEOUT, **kwargs)
    body = await response.json(content_type=None)
    return time.monotonic() - started, response.status, body


async def test_a_hung_grpc_backend_gets_503_quickly_and_service_resumes_with_it(
    database_url: str,
    db: peewee.Database,
    acme: tuple[Organization, str],
    aiohttp_client: Any,
) -> None:
    org, key = acme
    db.close()
    with launched(
        "grpc-server", "--database", database_url, "--grpc", "127.0.0.1:0", ready=GRPC_READY
    ) as backend:
        stopped = False
        try:
            gateway = await aiohttp_client(create_app(f"127.0.0.1:{backend.port()}"))
            _, status, body = await _timed(
                gateway, "POST", "/api/v2/authenticate", json={"access_key": key}
            )
            assert status == 200, body
            headers = {"Authorization": f"Bearer {body['token']}"}
            upcoming = f"/api/v2/organizations/{org.id}/upcoming_meetings"
            export = f"/api/v2/organizations/{org.id}/export_meetings?column[]=name"
            assert (await _timed(gateway, "GET", upcoming, headers=headers))[1] == 200

            os.kill(backend.pid, signal.SIGSTOP)
            stopped = True
            await asyncio.to_thread(
                wait_until, lambda: all_threads_stopped(backend.pid), 10, "the backend to stop"
            )
            first = True
            for method, path, kwargs in (
                ("GET", upcoming, {"headers": headers}),
                ("GET", export, {"headers": headers}),
                ("POST", "/api/v2/authenticate", {"json": {"access_key": key}}),
                ("GET", upcoming, {"headers": headers}),
            ):
                took, status, body = await _timed(gateway, method, path, **kwargs)
                assert (status, body) == (503, UNAVAILABLE), (method, path)
                bound = HUNG_NOTICED_SECONDS if first else HUNG_ANSWER_SECONDS
                assert took < bound, (method, path, took)
                first = False

            os.kill(backend.pid, signal.SIGCONT)
            stopped = False
            deadline = time.monotonic() + RECOVERY_SECONDS
            while (await _timed(gateway, "GET", upcoming, headers=headers))[1] != 200:
                assert time.monotonic() < deadline, "the gateway never served again"
                await asyncio.sleep(0.1)
            took, status, body = await _timed(gateway, "GET", export, headers=headers)
            assert status == 200 and "meetings" in body
        finally:
            if stopped:
                # A stopped process takes SIGKILL too, but let it go on to its end normally.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(backend.pid, signal.SIGCONT)


@dataclass
class QuietReader:
    """The store's export reader, silent for a while before its second batch (a slow query)."""

    inner: Any
    fetches: int = 0

    def fetch(self) -> Any:
        self.fetches += 1
        if self.fetches == 2:
            time.sleep(QUIET_SECONDS)
        return self.inner.fetch()

    def close(self) -> None:
        self.inner.close()


async def test_an_export_stream_quiet_for_seconds_is_not_cut_by_the_keepalive(
    gateway: Any, db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_fixture(document([]))
    many_meetings(db, ROWS)
    real_open = server_export.open_export

    def open_quiet(*args: Any, **kwargs: Any) -> QuietReader:
        return QuietReader(real_open(*args, **kwargs))

    monkeypatch.setattr(server_export, "open_export", open_quiet)
    headers = await rest_headers(gateway)
    # Nothing travels on the connection while the reader is quiet: the gateway pings, and
    # the server must take the pings for what they are (a server that took them for abuse
    # would answer GOAWAY "too_many_pings" and drop the connection, cutting the export).
    response = await gateway.get(
        EXPORT_URL, params=[("column[]", "name")], headers=headers, timeout=CLIENT_TIMEOUT
    )
    assert response.status == 200
    assert len((await response.json())["meetings"]) == ROWS
