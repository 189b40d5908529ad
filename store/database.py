"""The database, bound late from a URL: SQLite tuned for a server, or PostgreSQL."""

from __future__ import annotations

from typing import Any

import peewee
from playhouse.db_url import connect

# Every model binds to this proxy; `open_database` points it at a real database.
database_proxy = peewee.DatabaseProxy()

DEFAULT_URL = "sqlite:///meetings.db"

# WAL lets readers run beside a writer; the busy timeout waits for a lock instead of failing.
SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -64 * 1024,
}


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def open_database(url: str = DEFAULT_URL) -> peewee.Database:
    """Create the database object for a URL and bind the models to it (no connection yet)."""
    kwargs: dict[str, Any] = {"autoconnect": False}
    if url.startswith("sqlite"):
        kwargs["pragmas"] = SQLITE_PRAGMAS
        kwargs["check_same_thread"] = False
    db: peewee.Database = connect(url, **kwargs)
    database_proxy.initialize(db)
    return db
