"""PostgreSQL connection pooling: configured from settings, healed after a server restart,
and an exhausted pool answered as UNAVAILABLE. SQLite keeps its own pool (tests/store)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import peewee
import psycopg2
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import create_server
from server.config import Settings
from server.db_health import probe
from store.database import (
    PoolOptions,
    RecoveringPooledPostgresqlDatabase,
    close_database,
    connect_checked,
    database_proxy,
    open_database,
)
from store.organizations import create_organization

PG_URL = "postgresql://meetings@127.0.0.1:5432/meetings"


@pytest.fixture(autouse=True)
def keep_the_models_binding() -> Iterator[None]:
    """These tests bind the models to databases of their own; give the binding back."""
    bound = database_proxy.obj
    yield
    if bound is not None:
        database_proxy.initialize(bound)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+pool"])
def test_postgresql_urls_open_a_pool_sized_by_the_settings(scheme: str) -> None:
    url = PG_URL.replace("postgresql", scheme, 1)
    db = open_database(url, PoolOptions(size=7, stale_timeout=60, wait_timeout=3))
    assert isinstance(db, RecoveringPooledPostgresqlDatabase)
    assert (db._max_connections, db._stale_timeout, db._wait_timeout) == (7, 60, 3)
    assert db.database == "meetings" and db.connect_params["host"] == "127.0.0.1"


def test_pool_settings_in_the_url_win() -> None:
    db = open_database(PG_URL + "?max_connections=3", PoolOptions(size=7))
    assert isinstance(db, RecoveringPooledPostgresqlDatabase)
    assert db._max_connections == 3


def test_zero_timeouts_mean_no_recycling_and_no_waiting() -> None:
    db = open_database(PG_URL, PoolOptions(size=5, stale_timeout=0, wait_timeout=0))
    assert isinstance(db, RecoveringPooledPostgresqlDatabase)
    assert (db._stale_timeout, db._wait_timeout) == (None, None)


def test_pool_size_zero_opens_plain_postgresql() -> None:
    db = open_database(PG_URL, PoolOptions(size=0))
    assert type(db) is peewee.PostgresqlDatabase


def test_sqlite_ignores_the_postgresql_pool_settings(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path}/x.db", PoolOptions(size=7, wait_timeout=3))
    assert isinstance(db, peewee.SqliteDatabase)
    # A connection per thread that reads: never a limit to wait on.
    assert (db._max_connections, db._wait_timeout) == (None, None)


def _backend_pids(url: str) -> set[int]:
    """Server processes connected to the test database, except the one asking."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = {row[0] for row in cursor.fetchall()}
    conn.close()
    return pids


def _terminate_backends(url: str) -> int:
    """What a PostgreSQL restart does to every client connection."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (count,) = cursor.fetchone()
    conn.close()
    return int(count)


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (MEETINGS_TEST_DATABASE_URL)")
    return database_url


@contextmanager
def pooled_server(
    url: str, settings: Settings, pool: PoolOptions
) -> Iterator[tuple[peewee.Database, pb_grpc.MeetingsServiceStub]]:
    """A gRPC server over a pool of its own (the models are bound to it), and a stub."""
    db = open_database(url, pool)
    server = create_server("127.0.0.1:0", settings, db)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield db, pb_grpc.MeetingsServiceStub(channel)
    finally:
        channel.close()
        server.stop(None)
        close_database(db)


def _authenticate_in_parallel(stub: pb_grpc.MeetingsServiceStub, key: str, n: int) -> list[str]:
    """`n` Authenticate calls at once, so the pool lends several connections."""
    tokens: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            tokens.append(stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return tokens


def test_pool_heals_after_postgresql_drops_every_connection(
    pg_url: str, settings: Settings
) -> None:
    with pooled_server(pg_url, settings, PoolOptions(size=4)) as (db, stub):
        with db.connection_context():
            _, key = create_organization("Acme")
        assert len(_authenticate_in_parallel(stub, key, 6)) == 6
        before = _backend_pids(pg_url)
        assert before, "the pool holds idle connections"
        assert _terminate_backends(pg_url) >= len(before)
        # Every pooled connection is dead now; not one request may meet one of them.
        for _ in range(10):
            assert stub.Authenticate(pb.AuthenticateRequest(access_key=key), timeout=10).token
        assert len(_authenticate_in_parallel(stub, key, 6)) == 6
        assert _backend_pids(pg_url).isdisjoint(before)


def test_the_probe_stays_serving_when_postgresql_drops_every_connection(pg_url: str) -> None:
    db = open_database(pg_url, PoolOptions(size=4))
    try:
        threads = [threading.Thread(target=probe, args=(db,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        before = _backend_pids(pg_url)
        assert _terminate_backends(pg_url) >= len(before) > 0
        # Every idle connection is dead: the first probe finds out and still answers.
        assert [probe(db) for _ in range(3)] == [True] * 3
    finally:
        close_database(db)


def test_a_statement_that_fails_on_a_live_connection_is_not_retried(pg_url: str) -> None:
    db = open_database(pg_url, PoolOptions(size=2))
    runs: list[int] = []

    def failing() -> None:
        runs.append(1)
        db.execute_sql("SELECT 1/0")

    try:
        with pytest.raises(peewee.DataError):
            connect_checked(db, failing)
        assert runs == [1]
    finally:
        close_database(db)


def test_an_exhausted_pool_answers_unavailable_then_recovers(
    pg_url: str, settings: Settings
) -> None:
    pool = PoolOptions(size=2, wait_timeout=0.3)
    with pooled_server(pg_url, settings, pool) as (db, stub):
        with db.connection_context():
            _, key = create_organization("Acme")
        release = threading.Event()
        holding = threading.Barrier(3, timeout=10)

        def hold_a_connection() -> None:
            with db.connection_context():
                db.execute_sql("SELECT 1")
                holding.wait()
                release.wait(10)

        holders = [threading.Thread(target=hold_a_connection) for _ in range(pool.size)]
        try:
            for holder in holders:
                holder.start()
            holding.wait()
            with pytest.raises(grpc.RpcError) as info:
                stub.Authenticate(pb.AuthenticateRequest(access_key=key), timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            release.set()
            for holder in holders:
                holder.join(timeout=10)
        assert stub.Authenticate(pb.AuthenticateRequest(access_key=key), timeout=10).token
