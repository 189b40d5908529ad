"""The database goes away and comes back: 503 / UNAVAILABLE within a second, the health
service NOT_SERVING, and recovery by itself once the database is back, with no restart."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import peewee
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import create_app
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import SERVICE_NAME, RunningServer, create_server
from server.config import Settings
from store.database import close_database, open_database
from store.organizations import create_organization
from store.schema import migrate
from tests.conftest import TEST_SECRET, FakeClock
from tests.reliability.postgres import ThrowawayPostgres, find_bindir

# Fault injection with real processes and timing: `make test-faults` (see the README).
pytestmark = pytest.mark.faults

PROBE_INTERVAL = 0.2
# A request during an outage is answered this fast (measured: under 0.05 s, also on a loaded
# machine); a hang would take the PostgreSQL connect timeout (2 s) or the deadline (30 s).
OUTAGE_ANSWER_SECONDS = 1.5
# The gateway with its backend gone: retries that no backend takes up, then 503 (measured:
# 0.4-0.6 s); not the request's deadline.
BACKEND_GONE_SECONDS = 3.0
# Bounds of waits for the probe to notice (every 0.2 s): generous, as they cost nothing when
# the service behaves.
NOT_SERVING_WITHIN = 10.0
SERVING_WITHIN = 20.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL's initdb is not installed (PG_BINDIR names its directory)"
        if os.environ.get("MEETINGS_FAULTS_REQUIRE_POSTGRES"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = ThrowawayPostgres(bindir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


class Service:
    """A gRPC server over one database, its stubs, and the key of one organization."""

    def __init__(self, database: peewee.Database, settings: Settings) -> None:
        self.database = database
        migrate(database)
        with database.connection_context():
            organization, self.key = create_organization("Acme")
        self.org_id = organization.id
        self.running: RunningServer = create_server("127.0.0.1:0", settings, database)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.running.port}")
        self.stub = pb_grpc.MeetingsServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def status(self) -> int:
        request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
        return int(self.health.Check(request, timeout=10).status)

    def wait_for_status(self, status: int, within: float) -> float:
        started = time.monotonic()
        while self.status() != status:
            assert time.monotonic() - started < within, f"health never became {status}"
            time.sleep(0.05)
        return time.monotonic() - started

    def upcoming(self) -> grpc.StatusCode:
        token = self.stub.Authenticate(pb.AuthenticateRequest(access_key=self.key), timeout=5)
        request = pb.ListUpcomingMeetingsRequest(organization_id=self.org_id)
        metadata = [("authorization", f"Bearer {token.token}")]
        try:
            self.stub.ListUpcomingMeetings(request, metadata=metadata, timeout=5)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return]
        return grpc.StatusCode.OK

    def authenticate_code(self) -> grpc.StatusCode:
        try:
            self.stub.Authenticate(pb.AuthenticateRequest(access_key=self.key), timeout=5)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return]
        return grpc.StatusCode.OK

    def close(self) -> None:
        self.channel.close()
        self.running.stop(None)
        close_database(self.database)


def fault_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        jwt_secret=TEST_SECRET,
        clock=FakeClock(),
        grpc_workers=4,
        db_probe_interval=PROBE_INTERVAL,
        auth_failure_limit=0,
    )


async def _outage_and_recovery(
    service: Service, aiohttp_client: Any, break_it: Callable[[], None], fix_it: Callable[[], None]
) -> None:
    gateway = await aiohttp_client(create_app(f"127.0.0.1:{service.running.port}"))
    assert service.status() == SERVING
    response = await gateway.post("/api/v2/authenticate", json={"access_key": service.key})
    token = (await response.json())["token"]
    url = f"/api/v2/organizations/{service.org_id}/upcoming_meetings"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await gateway.get(url, headers=headers)).status == 200

    break_it()
    for _ in range(3):
        started = time.monotonic()
        response = await gateway.get(url, headers=headers)
        assert response.status == 503
        assert list(await response.json()) == ["error"]
        assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
        started = time.monotonic()
        assert service.authenticate_code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
    service.wait_for_status(NOT_SERVING, within=NOT_SERVING_WITHIN)
    assert (await gateway.get("/readyz")).status == 503

    fix_it()
    service.wait_for_status(SERVING, within=SERVING_WITHIN)
    assert (await gateway.get("/readyz")).status == 200
    assert (await gateway.get(url, headers=headers)).status == 200
    assert service.upcoming() == grpc.StatusCode.OK


async def test_a_stopped_postgresql_answers_503_then_recovers_by_itself(
    throwaway_postgres: ThrowawayPostgres, aiohttp_client: Any
) -> None:
    database = open_database(throwaway_postgres.url)
    service = Service(database, fault_settings(throwaway_postgres.url))
    try:
        await _outage_and_recovery(
            service, aiohttp_client, throwaway_postgres.stop, throwaway_postgres.start
        )
    finally:
        service.close()
        if not throwaway_postgres.running():
            throwaway_postgres.start()


async def test_a_postgresql_outage_in_the_middle_of_use_is_noticed_by_the_probe(
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    database = open_database(throwaway_postgres.url)
    service = Service(database, fault_settings(throwaway_postgres.url))
    try:
        throwaway_postgres.stop()
        # Nobody calls: the probe alone flips the status, and flips it back.
        service.wait_for_status(NOT_SERVING, within=NOT_SERVING_WITHIN)
        throwaway_postgres.start()
        service.wait_for_status(SERVING, within=SERVING_WITHIN)
        assert service.upcoming() == grpc.StatusCode.OK
    finally:
        service.close()
        if not throwaway_postgres.running():
            throwaway_postgres.start()


@pytest.mark.parametrize("fault", ["directory moved away", "file replaced by a directory"])
async def test_an_unreadable_sqlite_file_answers_503_then_recovers_by_itself(
    tmp_path: Path, aiohttp_client: Any, fault: str
) -> None:
    folder = tmp_path / "volume"
    folder.mkdir()
    path = folder / "meetings.db"
    url = f"sqlite:///{path}"
    service = Service(open_database(url), fault_settings(url))
    aside = tmp_path / "aside"

    def break_it() -> None:
        if fault == "directory moved away":
            shutil.move(folder, aside)
        else:
            path.rename(aside)
            path.mkdir()

    def fix_it() -> None:
        if fault == "directory moved away":
            shutil.move(aside, folder)
        else:
            path.rmdir()
            aside.rename(path)

    try:
        await _outage_and_recovery(service, aiohttp_client, break_it, fix_it)
    finally:
        service.close()


async def test_the_gateway_answers_503_at_once_when_the_grpc_backend_is_gone(
    grpc_server: RunningServer, aiohttp_client: Any, acme: Any
) -> None:
    gateway = await aiohttp_client(create_app(f"127.0.0.1:{grpc_server.port}"))
    org, key = acme
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    url = f"/api/v2/organizations/{org.id}/export_meetings?column[]=name"
    assert (await gateway.get(url, headers=headers)).status == 200
    grpc_server.stop(0)
    for path in (url, url + "&page=1"):
        started = time.monotonic()
        response = await gateway.get(path, headers=headers)
        assert response.status == 503
        assert await response.json() == {"error": "Service unavailable; try again shortly"}
        assert time.monotonic() - started < BACKEND_GONE_SECONDS
    assert (await gateway.get("/readyz")).status == 503


def test_settings_turn_the_probe_off(db: peewee.Database, settings: Settings) -> None:
    running = create_server("127.0.0.1:0", dataclasses.replace(settings, db_probe_interval=0), db)
    try:
        assert running.database_health is not None
        assert running.database_health.serving
    finally:
        running.stop(None)
