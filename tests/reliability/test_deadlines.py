"""Deadlines reach the database: the caller's (gRPC deadline, or the gateway's
X-Request-Timeout / Grpc-Timeout), or the server's default for unary RPCs; a cancelled RPC
stops its query."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import grpc
import peewee
import pytest

from gateway.app import create_app
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server import query_deadline, servicer
from server.app import RunningServer, create_server
from server.config import Settings
from store.database import database_proxy, is_sqlite
from store.errors import QueryInterrupted, translate_database_errors
from store.models import Organization

# A query that runs for as long as it is let: ~minutes on SQLite, 60 s on PostgreSQL.
SQLITE_SLOW = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000000) "
    "SELECT count(*) FROM n"
)
POSTGRES_SLOW = "SELECT pg_sleep(60)"


def run_slow_query() -> None:
    sql = SQLITE_SLOW if is_sqlite(database_proxy.obj) else POSTGRES_SLOW
    with translate_database_errors():
        database_proxy.execute_sql(sql).fetchall()


class SlowQueries:
    """Replaces an RPC's work by a slow query and records how it ended, and when."""

    def __init__(self) -> None:
        self.ended = threading.Event()
        self.outcome: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.monotonic()
        try:
            run_slow_query()
        except BaseException as exc:
            self.outcome = exc
            raise
        finally:
            self.seconds = time.monotonic() - started
            self.ended.set()


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> SlowQueries:
    slow = SlowQueries()

    def unary(request: Any, context: Any, clock: Any) -> Any:
        slow.run()
        return pb.ListUpcomingMeetingsResponse()

    def stream(request: Any, context: Any, clock: Any) -> Iterator[Any]:
        yield pb.StreamExportMeetingsResponse()
        slow.run()

    monkeypatch.setattr(servicer, "list_upcoming_meetings", unary)
    monkeypatch.setattr(servicer, "stream_export_meetings", stream)
    return slow


def _metadata(stub: pb_grpc.MeetingsServiceStub, key: str) -> list[tuple[str, str]]:
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token
    return [("authorization", f"Bearer {token}")]


def test_a_deadline_interrupts_a_running_query(db: peewee.Database) -> None:
    deadline = query_deadline.QueryDeadline(0.2)
    with db.connection_context():
        query_deadline.apply(db, deadline)
        started = time.monotonic()
        with pytest.raises(QueryInterrupted):
            run_slow_query()
        assert time.monotonic() - started < 1.5
        query_deadline.clear(db, deadline)
        # The connection is fine afterwards.
        assert db.execute_sql("SELECT 1").fetchone()[0] == 1  # type: ignore[no-untyped-call]


def test_the_callers_grpc_deadline_stops_the_query(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], slow: SlowQueries
) -> None:
    org, key = acme
    request = pb.ListUpcomingMeetingsRequest(organization_id=org.id)
    with pytest.raises(grpc.RpcError) as info:
        stub.ListUpcomingMeetings(request, metadata=_metadata(stub, key), timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert slow.ended.wait(3)
    assert isinstance(slow.outcome, QueryInterrupted) and slow.seconds < 1.5


def test_a_unary_rpc_without_a_deadline_gets_the_servers_default(
    db: peewee.Database,
    settings: Settings,
    acme: tuple[Organization, str],
    slow: SlowQueries,
) -> None:
    org, key = acme
    running = create_server("127.0.0.1:0", dataclasses.replace(settings, unary_timeout=0.3), db)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.MeetingsServiceStub(channel)
            request = pb.ListUpcomingMeetingsRequest(organization_id=org.id)
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as info:
                stub.ListUpcomingMeetings(request, metadata=_metadata(stub, key))
            assert time.monotonic() - started < 2
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert info.value.details() == "The request took too long and was stopped"
    finally:
        running.stop(None)
    assert isinstance(slow.outcome, QueryInterrupted)


@pytest.mark.parametrize(
    ("header", "value"), [("X-Request-Timeout", "0.3"), ("Grpc-Timeout", "300m")]
)
async def test_the_gateway_passes_the_callers_timeout_down(
    grpc_server: RunningServer,
    aiohttp_client: Any,
    acme: tuple[Organization, str],
    slow: SlowQueries,
    header: str,
    value: str,
) -> None:
    org, key = acme
    gateway = await aiohttp_client(create_app(f"127.0.0.1:{grpc_server.port}"))
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    headers = {"Authorization": f"Bearer {(await response.json())['token']}", header: value}
    started = time.monotonic()
    response = await gateway.get(
        f"/api/v2/organizations/{org.id}/upcoming_meetings", headers=headers
    )
    assert response.status == 504
    assert list(await response.json()) == ["error"]
    assert time.monotonic() - started < 2
    assert slow.ended.wait(3)
    assert isinstance(slow.outcome, QueryInterrupted) and slow.seconds < 1.5


def test_a_cancelled_stream_stops_its_running_query(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], slow: SlowQueries
) -> None:
    org, key = acme
    request = pb.StreamExportMeetingsRequest(organization_id=org.id, columns=[1])
    call = stub.StreamExportMeetings(request, metadata=_metadata(stub, key))
    next(call)  # the stream is under way and its query is running
    time.sleep(0.2)
    call.cancel()
    assert slow.ended.wait(3), "the query kept running after the client left"
    assert isinstance(slow.outcome, QueryInterrupted) and slow.seconds < 1.5


async def test_the_callers_timeout_bounds_a_streamed_export_too(
    grpc_server: RunningServer,
    aiohttp_client: Any,
    acme: tuple[Organization, str],
    slow: SlowQueries,
) -> None:
    org, key = acme
    gateway = await aiohttp_client(create_app(f"127.0.0.1:{grpc_server.port}"))
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    headers = {
        "Authorization": f"Bearer {(await response.json())['token']}",
        "X-Request-Timeout": "0.3",
    }
    response = await gateway.get(
        f"/api/v2/organizations/{org.id}/export_meetings?column[]=name", headers=headers
    )
    assert response.status == 200  # the stream was under way when time ran out
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()  # so the body ends truncated, never as valid JSON
    assert slow.ended.wait(3)
    assert isinstance(slow.outcome, QueryInterrupted) and slow.seconds < 1.5
