"""The gateway's channel: one target for every upstream, round robin, retries only before a
backend took the call up, and the health URLs. Fake MeetingsService servers, in process."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.app import create_app
from gateway.channel import UpstreamError, channel_target
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.app import SERVICE_NAME

UNAVAILABLE_BODY = {"error": "Service unavailable; try again shortly"}


@pytest.mark.parametrize(
    ("upstreams", "target"),
    [
        (["127.0.0.1:50051"], "ipv4:127.0.0.1:50051"),
        (["127.0.0.1:1", "127.0.0.2:2"], "ipv4:127.0.0.1:1,127.0.0.2:2"),
        (["[::1]:1", "[::1]:2"], "ipv6:[::1]:1,[::1]:2"),
        (["meetings-grpc:50051"], "dns:///meetings-grpc:50051"),
        (["unix:/run/a.sock", "unix:/run/b.sock"], "unix:/run/a.sock,/run/b.sock"),
        (["dns:///grpc.internal:443"], "dns:///grpc.internal:443"),
    ],
)
def test_channel_target_names_every_upstream(upstreams: list[str], target: str) -> None:
    assert channel_target(upstreams) == target


@pytest.mark.parametrize(
    "upstreams",
    [
        [],
        ["grpc-1:50051", "grpc-2:50051"],
        ["127.0.0.1:1", "[::1]:2"],
        ["127.0.0.1"],
        ["unix:/run/a.sock", "127.0.0.1:1"],
    ],
)
def test_channel_target_refuses_what_round_robin_cannot_balance(upstreams: list[str]) -> None:
    with pytest.raises(UpstreamError):
        channel_target(upstreams)


@dataclass
class FakeMeetings(pb_grpc.MeetingsServiceServicer):  # type: ignore[misc]
    """Answers Authenticate with a token naming the server; can fail the first calls."""

    name: str
    # UNAVAILABLE before any response header: the call never reached the service's code.
    refuse_first: int = 0
    # UNAVAILABLE after the response headers: the service had begun handling the call.
    fail_after_headers: bool = False
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def Authenticate(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.lock:
            self.calls += 1
            call = self.calls
        if call <= self.refuse_first:
            context.abort(grpc.StatusCode.UNAVAILABLE, "shutting down")
        if self.fail_after_headers:
            context.send_initial_metadata((("x-request-id", "r"),))
            context.abort(grpc.StatusCode.UNAVAILABLE, "lost the database")
        return pb.AuthenticateResponse(token=self.name, organization_id=1)


@dataclass
class FakeServer:
    meetings: FakeMeetings
    health: health.HealthServicer
    address: str


@contextmanager
def fake_server(meetings: FakeMeetings) -> Iterator[FakeServer]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_MeetingsServiceServicer_to_server(meetings, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield FakeServer(meetings, health_servicer, f"127.0.0.1:{port}")
    finally:
        server.stop(None).wait()


def closed_port() -> str:
    """An address where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


async def authenticate(client: Any) -> tuple[int, Any]:
    response = await client.post("/api/v2/authenticate", json={"access_key": "k" * 24})
    return response.status, await response.json()


async def test_gateway_spreads_requests_over_every_upstream(aiohttp_client: Any) -> None:
    with (
        fake_server(FakeMeetings("one")) as one,
        fake_server(FakeMeetings("two")) as two,
    ):
        client = await aiohttp_client(create_app([one.address, two.address]))
        answers = [await authenticate(client) for _ in range(30)]
        assert {status for status, _ in answers} == {200}
        assert {body["token"] for _, body in answers} == {"one", "two"}
        assert one.meetings.calls + two.meetings.calls == 30
        assert min(one.meetings.calls, two.meetings.calls) >= 5


async def test_gateway_skips_an_upstream_that_is_down(aiohttp_client: Any) -> None:
    with fake_server(FakeMeetings("alive")) as alive:
        client = await aiohttp_client(create_app([closed_port(), alive.address]))
        answers = [await authenticate(client) for _ in range(10)]
        assert answers == [(200, {"token": "alive"})] * 10


async def test_gateway_retries_a_call_no_backend_took_up(aiohttp_client: Any) -> None:
    with fake_server(FakeMeetings("server", refuse_first=2)) as server:
        client = await aiohttp_client(create_app(server.address))
        assert await authenticate(client) == (200, {"token": "server"})
        assert server.meetings.calls == 3


async def test_gateway_gives_up_after_four_attempts(aiohttp_client: Any) -> None:
    with fake_server(FakeMeetings("server", refuse_first=10)) as server:
        client = await aiohttp_client(create_app(server.address))
        assert await authenticate(client) == (503, UNAVAILABLE_BODY)
        assert server.meetings.calls == 4


async def test_gateway_never_repeats_a_call_a_backend_began(aiohttp_client: Any) -> None:
    with fake_server(FakeMeetings("server", fail_after_headers=True)) as server:
        client = await aiohttp_client(create_app(server.address))
        assert await authenticate(client) == (503, UNAVAILABLE_BODY)
        assert server.meetings.calls == 1


async def test_healthz_answers_without_looking_upstream(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(closed_port()))
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_follows_the_upstream_health_service(aiohttp_client: Any) -> None:
    with fake_server(FakeMeetings("server")) as server:
        client = await aiohttp_client(create_app(server.address))
        response = await client.get("/readyz")
        assert (response.status, await response.json()) == (200, {"status": "ready"})
        server.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        response = await client.get("/readyz")
        assert (response.status, await response.json()) == (503, {"status": "upstream not serving"})


async def test_readyz_is_503_when_no_upstream_answers(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(closed_port()))
    response = await client.get("/readyz")
    assert (response.status, await response.json()) == (503, {"status": "upstream unavailable"})
