"""The gRPC tier's metrics: RPCs by method and code, latency, streams, rows, the pool."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import peewee
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from playhouse.pool import PooledSqliteDatabase
from prometheus_client import REGISTRY

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import create_server
from server.config import Settings
from server.metrics import MetricsInterceptor, watch_database_pool
from tests.partner.conftest import ACCESS_KEY, ORG_ID

SERVICE = "heypeers.meetings.v1.MeetingsService"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def settles_at(expected: float, name: str, **labels: str) -> bool:
    """Whether the sample reaches `expected` within 5 s. An RPC that fails is aborted, and
    grpcio sends its status from inside the abort, before the interceptor around it counts
    the failure: the caller can hold the error a moment before the count moves."""
    deadline = time.monotonic() + 5
    while value(name, **labels) != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def metered_channel(
    db: peewee.Database, settings: Settings, partner_data: object
) -> Iterator[grpc.Channel]:
    """A channel to the server create_server builds: MetricsInterceptor sees every RPC."""
    running = create_server("127.0.0.1:0", settings, db)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield channel
    channel.close()
    running.stop(None)


def test_unary_rpcs_are_counted_by_method_and_code(metered_channel: grpc.Channel) -> None:
    stub = pb_grpc.MeetingsServiceStub(metered_channel)
    labels = {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "Authenticate"}
    started = value("grpc_server_started_total", **labels)
    ok = value("grpc_server_handled_total", **labels, grpc_code="OK")
    refused = value("grpc_server_handled_total", **labels, grpc_code="UNAUTHENTICATED")
    timed = value("grpc_server_handling_seconds_count", **labels)

    stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY))
    with pytest.raises(grpc.RpcError) as failure:
        stub.Authenticate(pb.AuthenticateRequest(access_key="wrong"))
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED

    assert value("grpc_server_started_total", **labels) == started + 2
    assert value("grpc_server_handled_total", **labels, grpc_code="OK") == ok + 1
    refusals = {**labels, "grpc_code": "UNAUTHENTICATED"}
    assert settles_at(refused + 1, "grpc_server_handled_total", **refusals)
    assert settles_at(timed + 2, "grpc_server_handling_seconds_count", **labels)


def test_streams_are_counted_and_leave_the_active_gauge_at_rest(
    metered_channel: grpc.Channel,
) -> None:
    stub = pb_grpc.MeetingsServiceStub(metered_channel)
    labels = {
        "grpc_type": "server_stream",
        "grpc_service": SERVICE,
        "grpc_method": "StreamExportMeetings",
    }
    refused = value("grpc_server_handled_total", **labels, grpc_code="UNAUTHENTICATED")
    with pytest.raises(grpc.RpcError):
        list(stub.StreamExportMeetings(pb.StreamExportMeetingsRequest(organization_id=ORG_ID)))
    refusals = {**labels, "grpc_code": "UNAUTHENTICATED"}
    assert settles_at(refused + 1, "grpc_server_handled_total", **refusals)
    active = {"grpc_service": SERVICE, "grpc_method": "StreamExportMeetings"}
    assert settles_at(0, "meetings_grpc_active_streams", **active)


def test_other_services_are_measured_too(metered_channel: grpc.Channel) -> None:
    labels = {
        "grpc_type": "unary",
        "grpc_service": "grpc.health.v1.Health",
        "grpc_method": "Check",
        "grpc_code": "OK",
    }
    before = value("grpc_server_handled_total", **labels)
    health_pb2_grpc.HealthStub(metered_channel).Check(health_pb2.HealthCheckRequest())
    assert value("grpc_server_handled_total", **labels) == before + 1


class _Context:
    """The little of grpc.ServicerContext the interceptor reads."""

    def code(self) -> grpc.StatusCode | None:
        return None


async def test_a_stream_closed_by_the_server_for_a_gone_client_counts_as_cancelled() -> None:
    async def behavior(request: Any, context: Any) -> AsyncIterator[int]:
        for row in range(10):
            yield row

    handler = MetricsInterceptor._stream("server_stream", "/test.Svc/Rows", behavior)
    labels = {"grpc_type": "server_stream", "grpc_service": "test.Svc", "grpc_method": "Rows"}
    active = {"grpc_service": "test.Svc", "grpc_method": "Rows"}
    cancelled = value("grpc_server_handled_total", **labels, grpc_code="CANCELLED")

    rows = handler(object(), _Context())
    assert await anext(rows) == 0
    assert value("meetings_grpc_active_streams", **active) == 1
    await rows.aclose()  # what grpcio does when the client cancels or the deadline passes

    assert value("grpc_server_handled_total", **labels, grpc_code="CANCELLED") == cancelled + 1
    assert value("meetings_grpc_active_streams", **active) == 0


def test_exported_rows_are_counted_by_the_export_code(metered_channel: grpc.Channel) -> None:
    stub = pb_grpc.MeetingsServiceStub(metered_channel)
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token
    auth = (("authorization", f"Bearer {token}"),)
    every = {
        "organization_id": ORG_ID,
        "columns": [pb.EXPORT_COLUMN_NAME],
        "reporting_days": pb.REPORTING_DAYS_ALL,
    }
    streamed = value("meetings_exported_rows_total", grpc_method="StreamExportMeetings")
    unary = value("meetings_exported_rows_total", grpc_method="ExportMeetings")

    messages = list(
        stub.StreamExportMeetings(pb.StreamExportMeetingsRequest(**every), metadata=auth)
    )
    whole = stub.ExportMeetings(pb.ExportMeetingsRequest(**every), metadata=auth)
    page = stub.ExportMeetings(
        pb.ExportMeetingsRequest(**every, page=1, page_size=1), metadata=auth
    )

    # Every row sent is counted once, under the RPC that sent it: the stream's, the whole
    # export's and the page's.
    sent = sum(len(message.meetings) for message in messages)
    assert sent >= 2 and len(whole.meetings) == sent and len(page.meetings) == 1
    assert (
        value("meetings_exported_rows_total", grpc_method="StreamExportMeetings") == streamed + sent
    )
    assert value("meetings_exported_rows_total", grpc_method="ExportMeetings") == unary + sent + 1


def test_database_pool_use_is_reported_at_scrape_time(tmp_path: Path) -> None:
    pool = PooledSqliteDatabase(str(tmp_path / "pool.db"), max_connections=3)
    before = {
        state: value("meetings_db_pool_connections", state=state) for state in ("in_use", "idle")
    }
    limit = value("meetings_db_pool_max_connections")
    watch_database_pool(pool)
    watch_database_pool(peewee.SqliteDatabase(":memory:"))  # no pool: ignored

    pool.connect()
    assert value("meetings_db_pool_connections", state="in_use") == before["in_use"] + 1
    assert value("meetings_db_pool_max_connections") == limit + 3
    pool.close()  # back to the pool
    assert value("meetings_db_pool_connections", state="in_use") == before["in_use"]
    assert value("meetings_db_pool_connections", state="idle") == before["idle"] + 1
    pool.close_all()
