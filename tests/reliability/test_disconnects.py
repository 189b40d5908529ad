"""Clients that leave mid-export: each stream is cancelled and its query closed; nothing is
left behind (threads, open streams, pooled connections, PostgreSQL cursors or transactions)
after many of them."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import peewee
import psycopg2
import pytest
from playhouse.pool import PooledDatabase

from server.app import SERVICE_NAME
from server.config import Settings
from server.metrics import ACTIVE_STREAMS
from store.database import is_sqlite
from store.loader import load_fixture
from tests.export.conftest import EXPORT_URL, document, many_meetings, rest_headers

# Fault injection with real processes and timing: `make test-faults` (see the README).
pytestmark = pytest.mark.faults

DISCONNECTS = 30


def active_streams() -> float:
    return float(ACTIVE_STREAMS.labels(SERVICE_NAME, "StreamExportMeetings")._value.get())


def leftover_backends(db: peewee.Database) -> list[tuple[str, str]]:
    """Other sessions of this database that are in a transaction or running a query."""
    params = dict(db.connect_params, dbname=db.database)
    with psycopg2.connect(**params) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction', "
            "'idle in transaction (aborted)')"
        )
        rows: list[tuple[str, str]] = cursor.fetchall()
    conn.close()
    return rows


def _threads_outside_the_rpc_pool() -> int:
    """Threads other than the gRPC server's workers, which the pool starts lazily up to its
    size (more of them after warm-up is the pool filling, not a leak)."""
    return sum(1 for t in threading.enumerate() if not t.name.startswith("rpc"))


def _rpc_pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("rpc"))


# Bound of the waits for streams, threads and connections to wind down: generous, since a
# passing run settles at once and a leak never does.
SETTLE_SECONDS = 30.0


async def _settled(check: Any, within: float = SETTLE_SECONDS) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_many_clients_leaving_mid_export_leave_nothing_behind(
    gateway: Any, db: peewee.Database, settings: Settings
) -> None:
    load_fixture(document([]))
    many_meetings(db, 20_001)
    headers = await rest_headers(gateway)
    # The gauge is the process's: other tests' servers may still be winding down.
    streams_before = active_streams()
    # Other tests' servers in this process may still be winding their workers down.
    pool_threads_before = _rpc_pool_threads()
    threads_after_warmup = 0
    for index in range(DISCONNECTS):
        response = await gateway.get(
            EXPORT_URL, params=[("column[]", "name"), ("column[]", "start_time")], headers=headers
        )
        assert response.status == 200
        assert await response.content.readany()  # the export is under way
        response.close()  # the client goes away
        if index == 4:
            threads_after_warmup = _threads_outside_the_rpc_pool()
    assert await _settled(lambda: active_streams() <= streams_before), "a stream never ended"
    assert await _settled(lambda: _threads_outside_the_rpc_pool() <= threads_after_warmup + 2), (
        f"threads: {threading.enumerate()}"
    )
    assert _rpc_pool_threads() <= pool_threads_before + settings.grpc_workers
    if isinstance(db, PooledDatabase):
        assert await _settled(lambda: not db._in_use), "a pooled connection was never returned"
    if not is_sqlite(db):
        assert await _settled(lambda: not leftover_backends(db)), leftover_backends(db)
    # And the service still answers a whole export.
    response = await gateway.get(EXPORT_URL, params=[("column[]", "name")], headers=headers)
    assert len((await response.json())["meetings"]) == 20_001
