"""Creates and migrates the schema, recording the version it reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_operations

from store.meeting_days import install_meeting_days
from store.models import ALL_MODELS, Registration, SchemaVersion

# Each step brings the schema from version i to i + 1; append, never edit.
Migration = Callable[[peewee.Database], None]


def _initial(db: peewee.Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)


def _create_missing_indexes(db: peewee.Database) -> None:
    # create_tables(safe=True) adds only the tables and indexes that do not exist yet.
    db.create_tables(ALL_MODELS, safe=True)


# PostgreSQL: a counter of the writes to the meeting table, bumped in the writer's own
# transaction by a statement trigger. A snapshot that reads the same value reads the same
# meetings, whatever else the cluster is writing (see store.snapshots). SQLite needs none:
# its data_version already says whether the file changed.
_MEETING_DATA_VERSION = (
    "CREATE TABLE IF NOT EXISTS meeting_data_version ("
    "id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO meeting_data_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE OR REPLACE FUNCTION bump_meeting_data_version() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE meeting_data_version SET version = version + 1 WHERE id = 1; RETURN NULL; "
    "END $$",
    "DROP TRIGGER IF EXISTS meeting_data_version_bump ON meeting",
    "CREATE TRIGGER meeting_data_version_bump "
    "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meeting "
    "FOR EACH STATEMENT EXECUTE FUNCTION bump_meeting_data_version()",
)


def _count_meeting_writes(db: peewee.Database) -> None:
    if isinstance(db, peewee.PostgresqlDatabase):
        untyped: Any = db  # peewee's methods are untyped
        for statement in _MEETING_DATA_VERSION:
            untyped.execute_sql(statement)


def _add_members(db: peewee.Database) -> None:
    # A database made at version 1 or later by this code already has the column.
    columns = {column.name for column in db.get_columns(Registration._meta.table_name)}
    if "registered_at" not in columns:
        migrator = SchemaMigrator.from_database(db)
        run_operations(
            migrator.add_column(
                Registration._meta.table_name, "registered_at", Registration.registered_at
            )
        )
    _create_missing_indexes(db)


MIGRATIONS: list[Migration] = [
    _initial,
    # 2: the covering (organization, end_time, status, start_time) index of the upcoming feed.
    _create_missing_indexes,
    # 3: (organization, duration): the feed's page starts at now less the longest meeting.
    _create_missing_indexes,
    # 4: the meeting table's write counter on PostgreSQL.
    _count_meeting_writes,
    # 5: memberships (a member's idp_id per organization), registration.registered_at, and
    # the (user, status, meeting) index of a member's upcoming meetings.
    _add_members,
    # 6: meeting_day, the per-day counts the export's counts and page positions add up.
    install_meeting_days,
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
