"""What every serving process shares with the parent of a `--workers` group: the stop
signals and the line printed after a clean stop, listen addresses, and the store opened and
migrated. Kept apart from cli.serve, so that a parent, which serves nothing itself, does not
load the gateway and the gRPC server (aiohttp, grpcio: about half a process's memory).
"""

from __future__ import annotations

import asyncio
import logging
import signal

import peewee

from server.config import Settings
from store.caches import set_caches_enabled
from store.database import is_postgres_url, open_database, schema_lock
from store.schema import migrate

log = logging.getLogger("meetings")

STOPPED_LINE = "meetings: stopped"


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def reachable_host(host: str) -> str:
    """The host to connect to for a server listening on `host` (any address: loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def open_store(settings: Settings) -> peewee.Database:
    """The database, pooled as configured, with its schema created or migrated, and the
    store's caches on or off as configured."""
    if is_postgres_url(settings.database_url) and 0 < settings.db_pool_size < settings.grpc_workers:
        log.warning(
            "the database pool (%d) is smaller than the gRPC worker threads (%d): "
            "RPCs may wait for a connection",
            settings.db_pool_size,
            settings.grpc_workers,
        )
    database = open_database(settings.database_url, settings.pool)
    set_caches_enabled(settings.store_caches)
    with schema_lock(database):
        migrate(database)
    return database


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def ignore_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    """After the first stop signal, ignore the next ones.

    The stop is under way and bounded by the grace period. A second signal is common (Ctrl-C
    pressed twice, `timeout` signalling a whole process group); handled by asyncio while the
    loop is closing, it would print "Exception ignored ... wakeup fd".
    """
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)
        signal.signal(signum, signal.SIG_IGN)
