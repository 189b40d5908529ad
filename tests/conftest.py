"""Shared fixtures: a fresh database per test, on SQLite or on the PostgreSQL named by
MEETINGS_TEST_DATABASE_URL (a scratch database is created for the run and dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import grpc
import peewee
import psycopg2
import pytest

from gateway.app import create_app
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import RunningServer, create_server
from server.config import Settings
from store.database import open_database
from store.export import ExportFilter
from store.export import pages as export_pages
from store.models import ALL_MODELS, Organization
from store.organizations import create_organization
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


def recorded_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """The first argument of every call of `owner.name` during the test (each call still
    runs)."""
    calls: list[Any] = []
    original = getattr(owner, name)

    def recording(first: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(first)
        return original(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[ExportFilter]:
    """The export filters counted from scratch (not from a kept count) during the test."""
    return recorded_calls(monkeypatch, export_pages, "_count")


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    """The test's database, bound to the models and migrated."""
    database = open_database(database_url)
    migrate(database)
    yield database
    if not database.is_closed():
        database.close()


# --- a running service: the gRPC server on a free port, and the gateway in front of it ---

TEST_SECRET = "test-secret-for-the-meetings-suite-0123456789"
START = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, clock: FakeClock) -> Settings:
    return Settings(database_url=database_url, jwt_secret=TEST_SECRET, clock=clock, grpc_workers=8)


@pytest.fixture
def grpc_server(db: peewee.Database, settings: Settings) -> Iterator[RunningServer]:
    running = create_server("127.0.0.1:0", settings, db)
    yield running
    running.stop(None)


@pytest.fixture
def stub(grpc_server: RunningServer) -> Iterator[pb_grpc.MeetingsServiceStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_server.port}")
    yield pb_grpc.MeetingsServiceStub(channel)
    channel.close()


@pytest.fixture
async def gateway(aiohttp_client: Any, grpc_server: RunningServer) -> Any:
    """An aiohttp test client for the gateway in front of the test's gRPC server."""
    return await aiohttp_client(create_app(f"127.0.0.1:{grpc_server.port}"))


@pytest.fixture
def acme(db: peewee.Database) -> tuple[Organization, str]:
    """An organization and its plaintext access key."""
    return create_organization("Acme", time_zone="America/New_York")
