"""Shared fixtures: a fresh database per test, on SQLite or on the PostgreSQL named by
MEETINGS_TEST_DATABASE_URL (a scratch database is created for the run and dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
import psycopg2
import pytest

from store.database import open_database
from store.models import ALL_MODELS
from store.schema import migrate

PG_BASE_URL = os.environ.get("MEETINGS_TEST_DATABASE_URL", "")


def _admin_connection(base_url: str):  # type: ignore[no-untyped-def]
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A scratch PostgreSQL database for this run, or None when no URL was given."""
    if not PG_BASE_URL:
        yield None
        return
    name = f"meetings_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection(PG_BASE_URL)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_BASE_URL)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def database_url(postgres_url: str | None, tmp_path: Path) -> str:
    """The URL of an empty, migrated database for one test."""
    if postgres_url is None:
        url = f"sqlite:///{tmp_path / 'meetings.db'}"
        db = open_database(url)
        migrate(db)
        db.close()
        return url
    db = open_database(postgres_url)
    migrate(db)
    with db.connection_context():
        tables = ", ".join(
            f'"{m._meta.table_name}"' for m in ALL_MODELS if m.__name__ != "SchemaVersion"
        )
        db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.close()
    return postgres_url


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    """The test's database, bound to the models and migrated."""
    database = open_database(database_url)
    migrate(database)
    yield database
    if not database.is_closed():
        database.close()
