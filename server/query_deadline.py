"""An RPC's deadline and cancellation, carried down to the database queries it runs.

- PostgreSQL: `statement_timeout` is set on the RPC's connection to the time the RPC has
  left (0, no limit, for a stream whose caller set no deadline). Every statement of the RPC is
  bounded by it; a pooled connection gets a fresh value from each RPC that borrows it.
- SQLite: a progress handler stops the running statement (SQLITE_INTERRUPT) once the deadline
  has passed or the RPC was cancelled, so a client that leaves mid-query stops the query too.
- PostgreSQL, cancelled RPC: a cancel request stops the statement running on the RPC's
  connection, but only while the RPC still holds it (never after it went back to the pool).

Either way the query fails with an error that store.errors turns into QueryInterrupted.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from typing import Any

import peewee

# SQLite calls the handler every this many virtual machine instructions: well under a
# millisecond apart, and cheap against the work in between.
SQLITE_PROGRESS_STEPS = 10_000


class QueryDeadline:
    """When an RPC's queries must stop; `cancel()` stops them at once (SQLite)."""

    def __init__(self, seconds: float | None, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self.expires = None if seconds is None else clock() + max(seconds, 0.0)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._connection: Any = None

    def cancel(self) -> None:
        """The RPC ended (cancelled, or done): stop whatever query it still runs."""
        self._cancelled.set()
        with self._lock:
            if self._connection is not None:
                with suppress(Exception):  # a connection that is gone has nothing running
                    self._connection.cancel()

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection

    def detach(self) -> None:
        with self._lock:
            self._connection = None

    def remaining(self) -> float | None:
        return None if self.expires is None else max(self.expires - self._clock(), 0.0)

    def passed(self) -> bool:
        return self._cancelled.is_set() or (
            self.expires is not None and self._clock() >= self.expires
        )


def apply(database: peewee.Database, deadline: QueryDeadline) -> None:
    """Bound the queries of this thread's open connection by `deadline`."""
    db: Any = database  # peewee's methods are untyped
    if isinstance(database, peewee.PostgresqlDatabase):
        remaining = deadline.remaining()
        # 0 turns the limit off; a deadline already passed still gets one millisecond.
        milliseconds = 0 if remaining is None else max(1, int(remaining * 1000))
        db.execute_sql("SELECT set_config('statement_timeout', %s, false)", (str(milliseconds),))
        deadline.attach(db.connection())
    elif isinstance(database, peewee.SqliteDatabase):
        db.connection().set_progress_handler(deadline.passed, SQLITE_PROGRESS_STEPS)


def clear(database: peewee.Database, deadline: QueryDeadline | None = None) -> None:
    """Before the connection is released: no more cancelling through `deadline`, and the SQLite
    handler taken off (PostgreSQL's timeout is replaced by the next RPC that borrows it)."""
    if deadline is not None:
        deadline.detach()
    db: Any = database
    if isinstance(database, peewee.SqliteDatabase) and not database.is_closed():
        db.connection().set_progress_handler(None, 0)
