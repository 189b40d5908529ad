"""The database, bound late from a URL: SQLite tuned for a server, or pooled PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import peewee
from playhouse.db_url import connect, parse
from playhouse.pool import (
    MaxConnectionsExceeded,
    PooledDatabase,
    PooledPostgresqlDatabase,
    PooledSqliteDatabase,
)

log = logging.getLogger("meetings.store")
T = TypeVar("T")

# Every model binds to this proxy; `open_database` points it at a real database.
database_proxy = peewee.DatabaseProxy()

DEFAULT_URL = "sqlite:///meetings.db"

# WAL lets readers run beside a writer; the busy timeout waits for a lock instead of failing.
# Each pooled connection keeps its own page cache (16 MB at most) for as long as it lives.
SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16 * 1024,
}

# A pooled SQLite connection is reopened after this long anyway, so settings changed on the
# file (a VACUUM, a new page size) reach every connection in time.
SQLITE_STALE_SECONDS = 300.0

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgres+pool", "postgresql+pool"})
SUPPORTED_URLS = "sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
# libpq's PQTransactionStatus values, the same in psycopg2 and psycopg 3.
_TRANSACTION_IDLE = 0
_TRANSACTION_UNKNOWN = 4
# Any constant shared by every process that migrates this schema.
SCHEMA_LOCK_KEY = 0x6D656574  # "meet"


@dataclass(frozen=True)
class PoolOptions:
    """How a process pools its PostgreSQL connections.

    `size` 0 turns pooling off (a connection per RPC). `wait_timeout` 0 fails at once when
    every connection is in use instead of waiting.
    """

    # Above the 16 gRPC worker threads a process runs by default, so an RPC never waits.
    size: int = 20
    # Connections older than this are closed on check-in or check-out, so a server-side
    # idle timeout, a failover or a PgBouncer recycle never meets a connection in use.
    stale_timeout: float = 300.0
    wait_timeout: float = 10.0


class DatabaseURLError(ValueError):
    """A database URL the service cannot use; the message names it (password hidden)."""


class PoolExhausted(peewee.OperationalError):
    """Every pooled connection stayed in use for the whole wait timeout."""


class RecoveringPooledPostgresqlDatabase(PooledPostgresqlDatabase):  # type: ignore[misc]
    """A PostgreSQL pool whose connections are checked by their first statement.

    When PostgreSQL restarts, every idle pooled connection is dead, though the client cannot
    tell until it sends something. Check-out sends nothing (a round trip of its own cost
    every RPC one); `connect_checked` runs a borrower's first statement, and when that finds
    the connection dead, drops every idle one (they died with it) and runs it once more on
    a new connection. One restart costs new connections, never a failed RPC.
    """

    def connect(self, reuse_if_open: bool = False) -> bool:
        try:
            return bool(super().connect(reuse_if_open))
        except MaxConnectionsExceeded as exc:
            # An OperationalError, so callers report it like any unreachable database.
            raise PoolExhausted(
                f"all {self._max_connections} pooled connections are in use"
            ) from exc

    def _is_closed(self, conn: Any) -> bool:
        if conn.closed:
            return True
        try:
            status = conn.info.transaction_status
            if status == _TRANSACTION_UNKNOWN:
                return True
            if status != _TRANSACTION_IDLE:
                # A transaction left open (or aborted) by the previous borrower.
                with conn.cursor() as cursor:
                    cursor.execute("ROLLBACK")
        except Exception:
            log.info("discarding a pooled connection that no longer answers")
            return True
        return False


def connect_checked(database: peewee.Database, first: Callable[[], T]) -> T:
    """This thread's connection, opened if it is not, with `first` (its first statement) run
    on it: a pooled PostgreSQL connection found dead by it is replaced, with every idle one
    (RecoveringPooledPostgresqlDatabase), and `first` runs once more."""
    db: Any = database  # peewee's methods are untyped
    db.connect(reuse_if_open=True)
    try:
        return first()
    except (peewee.OperationalError, peewee.InterfaceError):
        if not isinstance(database, RecoveringPooledPostgresqlDatabase):
            raise
        if not db.connection().closed:
            raise  # the connection is alive: the statement itself failed
    log.info("a pooled connection no longer answers: replacing the idle ones")
    db.manual_close()
    db.close_idle()
    db.connect()
    return first()


class FilePooledSqliteDatabase(PooledSqliteDatabase):  # type: ignore[misc]
    """A SQLite file whose connections are kept open between RPCs, for as long as the path
    still names the file they were opened on.

    A new connection costs more than most RPCs' reads (the pragmas, then the schema parsed
    again at its first statement), so connections go back to a pool instead of being closed.
    But an open connection keeps reading its file even after the file was moved away or
    replaced: the path is checked (one stat) when a connection is lent, and a connection whose
    file is no longer there is discarded, so the next one fails, or opens the new file, as a
    fresh connection would.
    """

    def __init__(self, database: str, **kwargs: Any) -> None:
        self._files: dict[int, tuple[int, int]] = {}
        super().__init__(database, **kwargs)

    def _file(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.database)
        except OSError:
            return None
        return (found.st_dev, found.st_ino)

    def _connect(self) -> Any:
        # The file's identity is taken before connecting (a file swapped in between makes
        # the connection look stale at its next check-out, never the other way round), or
        # after, when the connection is what created the file.
        opened_on = self._file()
        conn = super()._connect()
        if id(conn) not in self._files:
            opened_on = opened_on or self._file()
            if opened_on is not None:
                self._files[id(conn)] = opened_on
        return conn

    def _is_closed(self, conn: Any) -> bool:
        opened_on = self._files.get(id(conn))
        if opened_on is None or opened_on != self._file():
            self._files.pop(id(conn), None)
            self._close_raw(conn)
            return True
        return bool(super()._is_closed(conn))

    def _close_raw(self, conn: Any) -> None:
        self._files.pop(id(conn), None)
        super()._close_raw(conn)


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in POSTGRES_SCHEMES


def display_url(url: str) -> str:
    """`url` fit for a message or a log: its password, if any, replaced by ***."""
    scheme, separator, rest = url.partition("://")
    userinfo, at, location = rest.partition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{separator}{user}:***@{location}"


def open_database(url: str = DEFAULT_URL, pool: PoolOptions | None = None) -> peewee.Database:
    """Create the database object for a URL and bind the models to it (no connection yet).

    A PostgreSQL URL (`postgresql://` or `postgresql+pool://`) gets a connection pool, unless
    `pool.size` is 0. Pool settings given in the URL's query string win over `pool`. Raises
    DatabaseURLError for a URL of another database, or one that does not parse.
    """
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme != "sqlite" and scheme not in POSTGRES_SCHEMES:
        # peewee knows more schemes (MySQL, ...), but the schema and queries are SQLite's
        # and PostgreSQL's only.
        raise DatabaseURLError(f"unsupported database URL {display_url(url)}: use {SUPPORTED_URLS}")
    try:
        return _open_database(url, pool)
    except ValueError as exc:  # a port that is not a number, no database name, ...
        reason = str(exc).replace(url, display_url(url))
        raise DatabaseURLError(f"bad database URL {display_url(url)}: {reason}") from exc


def _open_database(url: str, pool: PoolOptions | None) -> peewee.Database:
    kwargs: dict[str, Any] = {"autoconnect": False}
    db: peewee.Database
    if is_postgres_url(url):
        # JIT compiling costs tens of milliseconds where a page's statement runs in a few, and
        # the planner turns it on for a statement whose estimates look large (a member's page
        # measured 107 ms with it, 3 ms without); a URL's own `options` still wins.
        kwargs["options"] = "-c jit=off"
        pool = pool or PoolOptions()
        if pool.size > 0:
            params: dict[str, Any] = {
                "max_connections": pool.size,
                "stale_timeout": pool.stale_timeout or None,
                # peewee waits forever on 0 and not at all on None; operators read 0 as "no wait".
                "timeout": pool.wait_timeout or None,
                **kwargs,
                **parse(url),
            }
            db = RecoveringPooledPostgresqlDatabase(**params)
        else:
            db = connect(url.replace("+pool://", "://", 1), **kwargs)
    elif url.startswith("sqlite") and not _in_memory(url):
        sqlite_params: dict[str, Any] = {
            "pragmas": SQLITE_PRAGMAS,
            "check_same_thread": False,
            "max_connections": None,  # one per thread that reads, at most
            "stale_timeout": SQLITE_STALE_SECONDS,
            **kwargs,
            **parse(url),
        }
        db = FilePooledSqliteDatabase(sqlite_params.pop("database"), **sqlite_params)
    else:
        if url.startswith("sqlite"):
            kwargs["pragmas"] = SQLITE_PRAGMAS
            kwargs["check_same_thread"] = False
        db = connect(url, **kwargs)
    database_proxy.initialize(db)
    return db


def _in_memory(url: str) -> bool:
    database = str(parse(url).get("database") or "")
    return (
        database in ("", ":memory:")
        or "mode=memory" in database
        or database.startswith("file::memory:")
    )


def close_database(db: peewee.Database) -> None:
    """Close this thread's connection and, for a pool, every idle pooled connection."""
    if not db.is_closed():
        db.close()
    if isinstance(db, PooledDatabase):
        db.close_all()


@contextmanager
def schema_lock(db: peewee.Database, timeout_seconds: int = 120) -> Iterator[None]:
    """Serialize schema migrations across processes (PostgreSQL; SQLite locks by itself).

    Several server processes starting together on an empty PostgreSQL database would
    otherwise race to create the same tables. The advisory lock is held on a connection of
    its own, outside the pool, so it can never be lent out while still held.
    """
    if not isinstance(db, peewee.PostgresqlDatabase):
        yield
        return
    import psycopg2

    conn = psycopg2.connect(database=db.database, **db.connect_params)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SET lock_timeout = %s", (f"{int(timeout_seconds)}s",))
            cursor.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        yield
    finally:
        conn.close()
