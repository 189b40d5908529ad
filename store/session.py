"""The connection and transaction scope every store function runs in, and the turn SQLite
statements take in this process.

Every read takes its connection and transaction here: connected() for one statement,
transaction() for several, snapshot_read() for a total and its page, and ReadOnlyTransaction
for a PostgreSQL cursor that outlives the call that opened it (a streamed export).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import peewee
import psycopg2

from store.database import database_proxy, is_sqlite
from store.errors import translate_database_errors

# SQLite runs inside this process, on the threads that call it, and Python's sqlite3 lets go
# of the interpreter lock around every row it steps. With many RPC threads reading pages at
# once, each row hands the lock to another thread and back: measured with 16 threads reading
# the feed's page, 4.4x the CPU per page of one thread, and the whole service served half
# the feed requests a second under 32 connections that it served under one. So the reads
# that step through a page of rows (the feed's page, an export's page, a batch of an
# export stream) take turns: one thread of the process at a time, while the other threads
# run Python meanwhile (the gateway, protobuf, JSON). A lookup of one row takes no turn:
# waiting for one costs more than the row. Re-entrant, so nested store calls of one thread
# pass. PostgreSQL runs in processes of its own and has no turn.
_SQLITE_TURN = threading.RLock()


@contextmanager
def sqlite_turn() -> Iterator[None]:
    """Hold this process's SQLite turn (nothing to hold on PostgreSQL)."""
    if not is_sqlite(database_proxy.obj):
        yield
        return
    with _SQLITE_TURN:
        yield


@contextmanager
def connected() -> Iterator[None]:
    """This thread's connection, opening (and later closing) one if needed, with no transaction
    of its own: for one statement, which reads one snapshot by itself. Database outages
    surface as DatabaseUnavailable."""
    with translate_database_errors(), ExitStack() as stack:
        if database_proxy.is_closed():
            stack.enter_context(database_proxy.connection_context())
        yield


@contextmanager
def transaction(*, snapshot: bool = False) -> Iterator[None]:
    """One transaction on this thread's connection, opening (and later closing) one if needed.

    A connection the caller already holds is reused and left open; nested calls become
    savepoints. Database outages surface as DatabaseUnavailable. With `snapshot`, every
    statement sees the same snapshot (SQLite transactions always do; PostgreSQL needs
    REPEATABLE READ), so a total and the page it counts agree.
    """
    with connected(), ExitStack() as stack:
        postgres = isinstance(database_proxy.obj, peewee.PostgresqlDatabase)
        if snapshot and postgres and not database_proxy.in_transaction():
            stack.enter_context(database_proxy.atomic(isolation_level="REPEATABLE READ"))
        else:
            stack.enter_context(database_proxy.atomic())
        yield


@contextmanager
def snapshot_read() -> Iterator[None]:
    """Several statements reading one snapshot (a total and its page), in this process's
    SQLite turn: transaction(snapshot=True) inside sqlite_turn()."""
    with sqlite_turn(), transaction(snapshot=True):
        yield


class ReadOnlyTransaction:
    """PostgreSQL: a read-only transaction begun and ended on a raw connection, for a cursor
    read across many calls (DECLARE ... FETCH), possibly ended on another thread.

    peewee runs psycopg2 in autocommit mode and keeps its transactions per thread, so this one
    is begun by hand on the connection itself. (A WITH HOLD cursor would need none, but
    PostgreSQL materializes its whole result before the first FETCH.)
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.open = False

    def begin(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN READ ONLY")
        self.open = True

    def end(self) -> None:
        """ROLLBACK: nothing was written, and it drops the transaction's cursors. Safe to call
        twice, and on a connection that broke (the error that broke it is the news)."""
        if not self.open:
            return
        self.open = False
        if self.connection.closed:
            return
        with suppress(psycopg2.Error), self.connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
