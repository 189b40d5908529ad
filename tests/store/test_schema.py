from __future__ import annotations

import peewee

from store.models import Meeting
from store.schema import CURRENT_VERSION, current_version, migrate


def test_migrate_records_the_current_version_and_is_idempotent(db: peewee.Database) -> None:
    assert migrate(db) == CURRENT_VERSION
    with db.connection_context():
        assert current_version(db) == CURRENT_VERSION


def test_a_version_1_database_gains_the_upcoming_index(db: peewee.Database) -> None:
    name = "meeting_organization_id_end_time_status_start_time"
    with db.connection_context():
        db.execute_sql(f'DROP INDEX "{name}"')
        db.execute_sql("UPDATE schema_version SET version = 1")
    assert migrate(db) == CURRENT_VERSION
    with db.connection_context():
        indexes = {index.name for index in db.get_indexes(Meeting._meta.table_name)}
    assert name in indexes
