"""Creates and migrates the schema, recording the version it reached."""

from __future__ import annotations

from collections.abc import Callable

import peewee

from store.models import ALL_MODELS, SchemaVersion

# Each step brings the schema from version i to i + 1; append, never edit.
Migration = Callable[[peewee.Database], None]


def _initial(db: peewee.Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)


def _create_missing_indexes(db: peewee.Database) -> None:
    # create_tables(safe=True) adds only the tables and indexes that do not exist yet.
    db.create_tables(ALL_MODELS, safe=True)


MIGRATIONS: list[Migration] = [
    _initial,
    # 2: the covering (organization, end_time, status, start_time) index of the upcoming feed.
    _create_missing_indexes,
    # 3: (organization, duration): the feed's page starts at now less the longest meeting.
    _create_missing_indexes,
]
CURRENT_VERSION = len(MIGRATIONS)


def current_version(db: peewee.Database) -> int:
    """The version recorded in the database, 0 for an empty one."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(row or 0)


def migrate(db: peewee.Database) -> int:
    """Bring the schema to CURRENT_VERSION, one step per transaction; returns the version."""
    with db.connection_context():
        version = current_version(db)
        while version < CURRENT_VERSION:
            with db.atomic():
                MIGRATIONS[version](db)
                version += 1
                SchemaVersion.delete().execute()
                SchemaVersion.create(version=version)
        return version
