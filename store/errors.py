"""Domain errors of the store, and the translation of database outages into one of them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import peewee
import psycopg2
from playhouse.pool import MaxConnectionsExceeded

# Primary SQLite result codes that mean "the database cannot be used right now", not "this
# query is wrong": busy or locked past the busy timeout, an I/O error, a file that won't open.
# SQLITE_NOTADB and SQLITE_PERM: the file was replaced or cannot be read; nothing this
# process does will make a query work until the file is back.
_SQLITE_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_PERM,
    }
)
# PostgreSQL SQLSTATEs of a server that is going away or refusing connections; class 08
# (connection exception) is matched by prefix.
_POSTGRES_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})
# query_canceled: statement_timeout ran out (or a cancel request arrived).
_POSTGRES_QUERY_CANCELED = "57014"


class StoreError(Exception):
    """Base of the errors the store raises on purpose."""


class NotFound(StoreError):
    """The record asked for does not exist. `resource_type`, `resource_name` and `owner` say
    which, when set (the server sends them to the caller as a ResourceInfo detail)."""

    def __init__(
        self, message: str, *, resource_type: str = "", resource_name: str = "", owner: str = ""
    ) -> None:
        super().__init__(message)
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.owner = owner


class DatabaseUnavailable(StoreError):
    """The database cannot be reached (refused, lost or locked connection)."""


class QueryInterrupted(StoreError):
    """The database stopped a query on purpose: its time ran out or its caller went away."""


class FixtureError(StoreError):
    """A fixture document was rejected: which list, which record, and why."""

    def __init__(self, list_name: str, index: int, reason: str) -> None:
        super().__init__(list_name, index, reason)
        self.list_name = list_name
        self.index = index
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.list_name}[{self.index}]: {self.reason}"


def _driver_error(exc: BaseException) -> BaseException | None:
    # peewee re-raises a driver error as its own class with the original as the first argument;
    # other wrappers chain it.
    if exc.args and isinstance(exc.args[0], BaseException):
        return exc.args[0]
    return exc.__cause__ or exc.__context__


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database is unreachable rather than the query wrong."""
    if isinstance(exc, MaxConnectionsExceeded):
        # Every pooled connection stayed busy for the whole wait.
        return True
    if not isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
        return False
    original = _driver_error(exc)
    if isinstance(original, MaxConnectionsExceeded):
        return True
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        # Extended result codes carry the primary code in their low byte.
        return code is not None and (code & 0xFF) in _SQLITE_UNAVAILABLE
    if isinstance(original, psycopg2.InterfaceError):
        # psycopg2 raises this for a connection that is already closed or was lost.
        return True
    if isinstance(original, psycopg2.OperationalError):
        code = original.pgcode
        # No SQLSTATE at all: the client library failed to connect or lost the socket.
        return code is None or code.startswith("08") or code in _POSTGRES_UNAVAILABLE
    return False


def is_interrupted(exc: BaseException) -> bool:
    """Whether a database error is a query stopped by a timeout or an interrupt."""
    if not isinstance(exc, peewee.OperationalError):
        return False
    original = _driver_error(exc)
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        return code is not None and (code & 0xFF) == sqlite3.SQLITE_INTERRUPT
    if isinstance(original, psycopg2.Error):
        return bool(original.pgcode == _POSTGRES_QUERY_CANCELED)
    return False


@contextmanager
def translate_database_errors() -> Iterator[None]:
    """Raise DatabaseUnavailable for an unreachable database and QueryInterrupted for a query
    stopped by its deadline; other errors pass unchanged.

    Works as a context manager and as a decorator.
    """
    try:
        yield
    except (peewee.OperationalError, peewee.InterfaceError, MaxConnectionsExceeded) as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailable("the database is unavailable") from exc
        if is_interrupted(exc):
            raise QueryInterrupted("the query was stopped: out of time or cancelled") from exc
        raise
