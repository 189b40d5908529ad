"""SQLite connections are kept between RPCs, but only while the path names their file."""

from __future__ import annotations

import shutil
from pathlib import Path

import peewee
import pytest

from store.database import FilePooledSqliteDatabase, close_database, open_database
from store.schema import migrate


def _connection(db: peewee.Database) -> object:
    db.connect()
    try:
        return db.connection()
    finally:
        db.close()


def _marker(db: peewee.Database) -> str:
    with db.connection_context():
        return str(db.execute_sql("SELECT value FROM marker").fetchone()[0])


def _file_with_marker(path: Path, value: str) -> None:
    db = open_database(f"sqlite:///{path}")
    with db.connection_context():
        db.execute_sql("CREATE TABLE IF NOT EXISTS marker (value TEXT)")
        db.execute_sql("DELETE FROM marker")
        db.execute_sql("INSERT INTO marker VALUES (?)", (value,))
    close_database(db)


def test_a_file_database_lends_the_same_connection_again(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'meetings.db'}")
    try:
        assert isinstance(db, FilePooledSqliteDatabase)
        first = _connection(db)
        assert _connection(db) is first
    finally:
        close_database(db)


def test_a_connection_goes_back_with_no_transaction_open(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'meetings.db'}")
    try:
        with db.connection_context():
            migrate(db)
        db.connect()
        db.execute_sql("BEGIN")
        db.execute_sql("SELECT 1")
        db.close()
        with db.connection_context():
            assert not db.connection().in_transaction
    finally:
        close_database(db)


def test_an_in_memory_database_is_not_pooled() -> None:
    db = open_database("sqlite:///:memory:")
    assert type(db) is peewee.SqliteDatabase


def test_a_file_moved_away_is_not_read_through_a_kept_connection(tmp_path: Path) -> None:
    folder = tmp_path / "volume"
    folder.mkdir()
    path = folder / "meetings.db"
    _file_with_marker(path, "original")
    db = open_database(f"sqlite:///{path}")
    try:
        assert _marker(db) == "original"
        shutil.move(folder, tmp_path / "aside")
        with pytest.raises(peewee.OperationalError):
            _marker(db)
    finally:
        close_database(db)


def test_a_replaced_file_is_read_by_a_new_connection(tmp_path: Path) -> None:
    path = tmp_path / "meetings.db"
    _file_with_marker(path, "old")
    db = open_database(f"sqlite:///{path}")
    try:
        kept = _connection(db)
        assert _marker(db) == "old"
        replacement = tmp_path / "replacement.db"
        _file_with_marker(replacement, "new")
        replacement.replace(path)
        assert _marker(db) == "new"
        assert _connection(db) is not kept
    finally:
        close_database(db)
