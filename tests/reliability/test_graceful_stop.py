"""SIGTERM while a streamed export is being read: that export finishes within the grace
period, new connections are refused, and `meetings serve` exits 0."""

from __future__ import annotations

import http.client
import signal
import socket
import time

import orjson
import peewee
import pytest

from store.loader import load_fixture
from tests.conftest import TEST_SECRET
from tests.export.conftest import ACCESS_KEY, ORG_ID, document, many_meetings
from tests.processes import serving

# Fault injection with real processes and timing: `make test-faults` (see the README).
pytestmark = pytest.mark.faults

ROWS = 30_001


def slow_connection(port: int) -> http.client.HTTPConnection:
    """A connection with a small receive buffer, so the server cannot push ahead of us."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.sock = sock
    return connection


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_a_streamed_export_finish_and_refuses_new_requests(
    db: peewee.Database, database_url: str
) -> None:
    load_fixture(document([]))
    many_meetings(db, ROWS, description_width=300)
    db.close()
    env = {"MEETINGS_JWT_SECRET": TEST_SECRET, "MEETINGS_GRACE_SECONDS": "20"}
    with serving(database_url, env) as served:
        auth = http.client.HTTPConnection("127.0.0.1", served.http_port, timeout=10)
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

        served.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        while not refused(served.http_port):
            assert time.monotonic() - started < 5, "new connections were still accepted"
            time.sleep(0.05)

        while chunk := response.read(65536):
            received += chunk
            time.sleep(0.002)  # a slow reader: the export outlives the stop signal
        export.close()
        body = orjson.loads(received)
        assert len(body["meetings"]) == ROWS
        assert served.process.wait(timeout=30) == 0
        assert served.process.stdout is not None
        assert "meetings: stopped" in served.process.stdout.read()
