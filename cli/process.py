"""What every serving process shares with the parent of a `--workers` group: the stop
signals and the line printed after a clean stop, listen addresses, and the store opened and
migrated. Kept apart from cli.serve, so that a parent, which serves nothing itself, does not
load the gateway and the gRPC server (aiohttp, grpcio: about half a process's memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
from pathlib import Path

import click
import peewee
import psycopg2
from playhouse.db_url import parse

from server.config import Settings
from store.caches import set_caches_enabled
from store.database import (
    DatabaseURLError,
    PoolOptions,
    display_url,
    is_postgres_url,
    open_database,
    schema_lock,
)
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
    database = open_migrated(settings.database_url, settings.pool, lock=True)
    set_caches_enabled(settings.store_caches)
    return database


def open_migrated(
    url: str, pool: PoolOptions | None = None, *, lock: bool = False
) -> peewee.Database:
    """The database at `url` with its schema created or migrated (under the schema lock when
    `lock`, for processes that may start together).

    A URL that cannot be used, or a database that cannot be opened, is one line naming the
    URL (click prints it and exits 1); `meetings -v` also logs the traceback.
    """
    try:
        database = open_database(url, pool)
        with schema_lock(database) if lock else contextlib.nullcontext():
            migrate(database)
    except DatabaseURLError as exc:
        log.debug("unusable database URL", exc_info=True)
        raise click.ClickException(str(exc)) from None
    except (peewee.DatabaseError, psycopg2.Error) as exc:
        log.debug("the database cannot be opened", exc_info=True)
        reason = _sqlite_folder_missing(url) or " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(
            f"cannot open the database {display_url(url)}: {reason}"
        ) from None
    return database


def _sqlite_folder_missing(url: str) -> str | None:
    """Why SQLite could not open its file, when the reason is a folder that is not there
    (SQLite itself only says "unable to open database file")."""
    if not url.startswith("sqlite:"):
        return None
    folder = Path(str(parse(url).get("database") or "")).parent
    return None if folder.is_dir() else f"the folder {folder} does not exist"


def bind_problem(address: str) -> OSError | None:
    """Why a server could not listen on HOST:PORT now; None when it could, or when the
    address is not of that form (a unix socket) or asks for any free port.

    The probe binds without SO_REUSEPORT, so any listener on the port is a conflict, even
    another `--workers` group (whose workers share their port with SO_REUSEPORT).
    """
    host, _, port = address.rpartition(":")
    if address.startswith("unix:") or not port.isdigit() or int(port) == 0:
        return None
    try:
        found = socket.getaddrinfo(
            host.strip("[]") or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return exc
    for family, kind, proto, _, sockaddr in found:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                return exc
    return None


def listen_error(address: str, what: str, exc: OSError) -> click.ClickException:
    """One line for a server that could not listen: which address, for what, and why."""
    log.debug("cannot listen on %s", address, exc_info=exc)
    # asyncio's message repeats the address; grpcio's gives no reason: probe for one then.
    cause = exc if exc.errno else bind_problem(address)
    reason = "the address cannot be used"
    if isinstance(cause, socket.gaierror):
        reason = f"unknown host ({cause.strerror})"
    elif cause is not None and cause.errno:
        reason = os.strerror(cause.errno).lower()
    return click.ClickException(f"cannot listen for {what} on {address}: {reason}")


def check_can_listen(address: str, what: str) -> None:
    """Fail with one line, before anything starts, when `address` is taken (or its host is
    unknown, or its port privileged). Other bind errors are left to the server itself."""
    problem = bind_problem(address)
    if problem is None:
        return
    if isinstance(problem, socket.gaierror) or problem.errno in (errno.EADDRINUSE, errno.EACCES):
        raise listen_error(address, what, problem)


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
