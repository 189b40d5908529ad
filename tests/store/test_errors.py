from __future__ import annotations

import threading
from pathlib import Path

import peewee
import psycopg2
import pytest
from playhouse.pool import PooledSqliteDatabase

from store.database import database_proxy, open_database
from store.errors import DatabaseUnavailable, FixtureError, StoreError, translate_database_errors
from store.organizations import get_organization
from tests.conftest import PG_BASE_URL


def test_fixture_error_names_list_index_and_reason() -> None:
    error = FixtureError("meetings", 3, "duration must be a positive integer")
    assert str(error) == "meetings[3]: duration must be a positive integer"
    assert (error.list_name, error.index, error.reason) == (
        "meetings",
        3,
        "duration must be a positive integer",
    )
    assert isinstance(error, StoreError)


def test_unopenable_sqlite_database_raises_database_unavailable(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path / 'missing-directory' / 'meetings.db'}")
    with pytest.raises(DatabaseUnavailable):
        get_organization(1)


def test_refused_postgresql_connection_raises_database_unavailable() -> None:
    # Port 1 on the loopback interface refuses connections.
    open_database("postgresql://postgres@127.0.0.1:1/meetings?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable):
        get_organization(1)


def test_an_exhausted_connection_pool_raises_database_unavailable(tmp_path: Path) -> None:
    pool = PooledSqliteDatabase(
        str(tmp_path / "meetings.db"), max_connections=1, timeout=0.05, autoconnect=False
    )
    database_proxy.initialize(pool)
    checked_out, release = threading.Event(), threading.Event()

    def hold_the_only_connection() -> None:
        pool.connect()
        checked_out.set()
        release.wait()
        pool.close()

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        checked_out.wait()
        with pytest.raises(DatabaseUnavailable):
            get_organization(1)
    finally:
        release.set()
        holder.join()
        pool.close_all()


@pytest.mark.skipif(not PG_BASE_URL, reason="needs MEETINGS_TEST_DATABASE_URL")
def test_lost_postgresql_connection_raises_database_unavailable(
    db: peewee.Database, database_url: str
) -> None:
    db.connect()
    (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
    admin = psycopg2.connect(database_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.commit()
    finally:
        admin.close()
    with pytest.raises(DatabaseUnavailable):
        get_organization(1)
    db.close()


def test_query_errors_are_not_translated(db: peewee.Database) -> None:
    # On SQLite a missing table is an OperationalError too, yet the database is up.
    with (
        db.connection_context(),
        pytest.raises(peewee.DatabaseError),
        translate_database_errors(),
    ):
        db.execute_sql("SELECT * FROM no_such_table")


def test_translate_database_errors_works_as_a_decorator(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'missing-directory' / 'meetings.db'}")

    @translate_database_errors()
    def connect() -> None:
        db.connect()

    with pytest.raises(DatabaseUnavailable):
        connect()
