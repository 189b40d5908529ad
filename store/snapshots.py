"""Which committed state of the database a read sees: the token that the store's caches
(store.caches) key their values by, so a question asked again of unchanged data is not
answered by reading the whole range again.

A *snapshot token* is equal for two reads only if they see the same data. Cached values are
keyed by it, so a value is reused only by a read of the very state it was computed from:
never stale, whatever writes happen, and without any write path having to invalidate it.

- SQLite: `PRAGMA data_version` of a sentinel connection of this process changes whenever
  any other connection commits. Read before and after a transaction's first statement (which
  fixes its snapshot), an unchanged value names the state that transaction reads; a changed
  one names nothing (no token: compute without the cache).
- PostgreSQL: the meeting table's write counter (`meeting_data_version`, bumped by a
  statement trigger inside every transaction that writes meetings; store.schema), read in
  the same snapshot as the data. Two snapshots reading the same value see the same meetings.
  (The snapshot itself, `pg_current_snapshot()`, would change with any write anywhere in the
  cluster: another application's traffic would make every read a miss.) Cached values are
  computed from the meeting table alone; registrations are always read live.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import weakref
from collections.abc import Hashable
from typing import Any

import peewee

from store.database import database_proxy, is_sqlite

# Read inside a statement: the token of the snapshot running it (see the module doc).
POSTGRES_SNAPSHOT_SQL = "(SELECT version FROM meeting_data_version WHERE id = 1)::text"


class _Sentinel:
    """A read-only connection of its own to one SQLite file, only asked for data_version."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )

    def version(self) -> int:
        with self._lock:
            (value,) = self._connection.execute("PRAGMA data_version").fetchone()
        return int(value)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class _Bound:
    """What this process knows of one database object: its serial and SQLite sentinel."""

    def __init__(self, location: str, sentinel: _Sentinel | None) -> None:
        self.location = location
        self.serial = next(_next_serial)
        self.sentinel = sentinel


_bound: weakref.WeakKeyDictionary[peewee.Database, _Bound] = weakref.WeakKeyDictionary()
_next_serial = itertools.count(1)
_bound_lock = threading.Lock()


def _bind(db: peewee.Database) -> _Bound:
    location = str(db.database)
    with _bound_lock:
        bound = _bound.get(db)
        if bound is not None and bound.location == location:
            return bound
        if bound is not None and bound.sentinel is not None:
            bound.sentinel.close()
        sentinel = None
        memory = location in ("", ":memory:") or location.startswith("file::memory:")
        if isinstance(db, peewee.SqliteDatabase) and not memory:
            try:
                sentinel = _Sentinel(location)
            except sqlite3.Error:
                sentinel = None
        bound = _bound[db] = _Bound(location, sentinel)
        if sentinel is not None:
            weakref.finalize(db, sentinel.close)
        return bound


def database_serial(db: peewee.Database) -> int:
    """A number naming this database (object and location) for the life of the process: ids
    of objects are reused once they are collected, these never are."""
    return _bind(db).serial


def sqlite_version(db: peewee.Database) -> Hashable | None:
    """The sentinel's data_version for this SQLite database (None for an in-memory one).

    Take it before and after the first statement of a read transaction: equal values are that
    transaction's token (see sqlite_token).
    """
    sentinel = _bind(db).sentinel
    return None if sentinel is None else sentinel.version()


def sqlite_token(before: Hashable | None, after: Hashable | None) -> Hashable | None:
    """The token of a read whose first statement ran between the two versions."""
    return before if before is not None and before == after else None


def snapshot_value(row: Any) -> Hashable | None:
    """A PostgreSQL token as read by POSTGRES_SNAPSHOT_SQL (None stays None)."""
    return None if row is None else str(row)


def snapshot_token() -> Hashable | None:
    """The token of the transaction just begun on this thread's connection, read as its first
    statement (the one that fixes its snapshot); None when it names no single state."""
    db = database_proxy.obj
    if is_sqlite(db):
        before = sqlite_version(db)
        database_proxy.execute_sql("PRAGMA schema_version")  # fixes the snapshot
        return sqlite_token(before, sqlite_version(db))
    row = database_proxy.execute_sql(f"SELECT {POSTGRES_SNAPSHOT_SQL}").fetchone()
    return snapshot_value(row[0])
