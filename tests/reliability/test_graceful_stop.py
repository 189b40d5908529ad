"""SIGTERM while a streamed export is being read: that export finishes within the grace
period, new connections are refused, and `meetings serve` exits 0; a stop also waits until
what finished responses wrote has left the process."""

from __future__ import annotations

import asyncio
import http.client
import re
import signal
import socket
import subprocess
import time
from contextlib import suppress

import orjson
import peewee
import pytest
from aiohttp import web

from cli.serve import site_port, stop_gateway
from store.loader import load_fixture
from tests.conftest import TEST_SECRET
from tests.export.conftest import ACCESS_KEY, ORG_ID, document, many_meetings
from tests.processes import serving

# Fault injection with real processes and timing: `make test-faults` (see the README).
pytestmark = pytest.mark.faults

# About 10 MB of JSON: more than the kernel buffers of a loopback connection hold (4 MiB), so
# the export is still being written when the stop signal comes, and at its end the server
# still has bytes of its own to send.
ROWS = 30_001
# Generous, so that a loaded machine never turns a slow export into a cut one; a passing run
# takes a few seconds.
GRACE_SECONDS = 60
# Long enough for a server that does not wait for its last bytes to exit meanwhile.
READER_PAUSE_SECONDS = 1.0
EXPORT_FINISHED = re.compile(r'"method":"GET","route":"[^"]*/export_meetings","status":200')


def slow_connection(port: int) -> http.client.HTTPConnection:
    """A connection with a small receive buffer, so the server cannot push ahead of us."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(GRACE_SECONDS)
    sock.connect(("127.0.0.1", port))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=GRACE_SECONDS)
    connection.sock = sock
    return connection


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_a_streamed_export_finish_and_refuses_new_requests(
    db: peewee.Database, database_url: str
) -> None:
    load_fixture(document([]))
    many_meetings(db, ROWS, description_width=300)
    db.close()
    env = {"MEETINGS_JWT_SECRET": TEST_SECRET, "MEETINGS_GRACE_SECONDS": str(GRACE_SECONDS)}
    with serving(database_url, env) as served:
        auth = http.client.HTTPConnection("127.0.0.1", served.http_port, timeout=30)
        auth.request(
            "POST",
            "/api/v2/authenticate",
            body=orjson.dumps({"access_key": ACCESS_KEY}),
            headers={"Content-Type": "application/json"},
        )
        token = orjson.loads(auth.getresponse().read())["token"]
        auth.close()

        export = slow_connection(served.http_port)
        export.request(
            "GET",
            f"/api/v2/organizations/{ORG_ID}/export_meetings"
            "?column[]=name&column[]=meeting_description",
            headers={"Authorization": f"Bearer {token}"},
        )
        response = export.getresponse()
        assert response.status == 200
        received = response.read(4096)

        # The export is in flight: the server waits for this reader.
        served.process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        while not refused(served.http_port):
            assert time.monotonic() - stopping < 30, "new connections were still accepted"
            time.sleep(0.05)

        # Read until the server's handler is done; then pause, as a slow client does, while
        # the last bytes are still on the server's side of the connection.
        paused = False
        while chunk := response.read(16384):
            received += chunk
            if not paused and EXPORT_FINISHED.search(served.output()):
                paused = True
                with suppress(subprocess.TimeoutExpired):
                    served.process.wait(timeout=READER_PAUSE_SECONDS)
        export.close()
        body = orjson.loads(received)
        assert len(body["meetings"]) == ROWS
        assert served.process.wait(timeout=GRACE_SECONDS + 30) == 0
        assert time.monotonic() - stopping < GRACE_SECONDS
        assert "meetings: stopped" in served.output()


async def test_a_stop_waits_until_a_finished_response_has_left_the_process() -> None:
    body = b"x" * (16 * 1024 * 1024)
    transports: list[asyncio.Transport] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        transports.append(request.transport)
        # Take the whole body into the process's buffer at once, as a fast network would, so
        # that the handler is done while most of it is still to be sent.
        request.transport.set_write_buffer_limits(high=2 * len(body))
        response = web.StreamResponse()
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setblocking(False)
    stop: asyncio.Task[None] | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", site_port(site, 0)))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200")

        stop = asyncio.create_task(stop_gateway(runner, 30))
        # The reader takes nothing for a while: the stop must not end meanwhile.
        await asyncio.sleep(0.5)
        assert transports[0].get_write_buffer_size() > 0
        assert not stop.done()

        received = await asyncio.wait_for(reader.read(), 60)
        assert len(received) == len(body)
        await asyncio.wait_for(stop, 30)
    finally:
        # Closing ends the flush of a failed run at once.
        if writer is None:
            sock.close()
        else:
            writer.close()
        if stop is None:
            await runner.cleanup()
        else:
            await asyncio.wait_for(stop, 30)
