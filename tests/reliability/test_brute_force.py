"""Repeated failed authenticate calls: slowed to a 429 / RESOURCE_EXHAUSTED for that client
only, with a Retry-After (RetryInfo), in a table of bounded size."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from gateway.errors import retry_after_header
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.config import Settings
from server.peers import TrustedProxies, peer_host
from server.throttle import FailureThrottle
from store.models import Organization

LIMIT = 3
WRONG_KEY = "wrong-key-of-24-chars-xx"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, auth_failure_limit=LIMIT, auth_failure_period=60.0)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the table -------------------------------------------------------------------------------


def test_a_client_is_refused_after_its_burst_and_regains_one_try_per_period() -> None:
    clock = FakeMonotonic()
    throttle = FailureThrottle(3, 10.0, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
    assert throttle.retry_after("a") == pytest.approx(10.0)
    assert throttle.retry_after("b") is None  # other clients are untouched
    clock.now += 4
    assert throttle.retry_after("a") == pytest.approx(6.0)
    clock.now += 6
    assert throttle.retry_after("a") is None
    throttle.failed("a")
    assert throttle.retry_after("a") == pytest.approx(10.0)


def test_the_table_stays_bounded_under_a_flood_of_addresses() -> None:
    clock = FakeMonotonic()
    throttle = FailureThrottle(3, 10.0, max_clients=1000, clock=clock)
    for index in range(100_000):
        throttle.failed(f"10.{index // 65536}.{index // 256 % 256}.{index % 256}")
    assert len(throttle) == 1000
    clock.now += 31  # every bucket has refilled: entries that say nothing are dropped
    throttle.failed("one more")
    assert len(throttle) == 1


def test_a_zero_limit_turns_the_throttle_off() -> None:
    throttle = FailureThrottle(0, 10.0)
    for _ in range(100):
        throttle.failed("a")
    assert throttle.retry_after("a") is None and len(throttle) == 0


@pytest.mark.parametrize(
    ("seconds", "header"), [(0.001, "1"), (1.0, "1"), (1.2, "2"), (59.9, "60")]
)
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


# --- who the client is -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "host"),
    [
        ("ipv4:203.0.113.5:5555", "203.0.113.5"),
        ("ipv6:[2001:db8::1]:5555", "2001:db8::1"),
        ("unix:/tmp/grpc.sock", "unix"),
        ("unix:", "unix"),
    ],
)
def test_peer_hosts(peer: str, host: str) -> None:
    assert peer_host(peer) == host


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # A direct caller is its own address, whatever it claims.
        ("ipv4:203.0.113.5:1", None, "203.0.113.5"),
        ("ipv4:203.0.113.5:1", "198.51.100.7", "203.0.113.5"),
        # Through the gateway (trusted): the address the gateway saw.
        ("ipv4:127.0.0.1:1", "198.51.100.7", "198.51.100.7"),
        ("unix:", "198.51.100.7", "198.51.100.7"),
        # A spoofed hop left of an untrusted one is ignored.
        ("ipv4:127.0.0.1:1", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # A load balancer in the trusted range passes on the real client.
        ("ipv4:127.0.0.1:1", "198.51.100.7, 10.0.0.2", "198.51.100.7"),
        # Every hop trusted: the left-most one.
        ("ipv4:127.0.0.1:1", "127.0.0.2", "127.0.0.2"),
        ("ipv4:127.0.0.1:1", None, "127.0.0.1"),
        ("ipv6:[::ffff:203.0.113.5]:1", None, "203.0.113.5"),
    ],
)
def test_the_client_behind_trusted_proxies(peer: str, forwarded: str | None, client: str) -> None:
    proxies = TrustedProxies(["127.0.0.0/8", "::1/128", "unix", "10.0.0.0/8"])
    assert proxies.client(peer, forwarded) == client


# --- gRPC ------------------------------------------------------------------------------------


def _authenticate(
    stub: pb_grpc.MeetingsServiceStub, key: str, forwarded: str | None = None
) -> grpc.RpcError | None:
    metadata = [("x-forwarded-for", forwarded)] if forwarded else []
    try:
        stub.Authenticate(pb.AuthenticateRequest(access_key=key), metadata=metadata, timeout=10)
    except grpc.RpcError as exc:
        return exc
    return None


def test_grpc_answers_resource_exhausted_with_retry_info_past_the_limit(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    for _ in range(LIMIT):
        error = _authenticate(stub, WRONG_KEY)
        assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    refused = _authenticate(stub, key)  # even the right key waits
    assert refused is not None and refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "Too many failed attempts" in refused.details()
    status = rpc_status.from_call(refused)  # type: ignore[arg-type]
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(retry)
    assert 59 <= retry.retry_delay.ToTimedelta().total_seconds() <= 60
    # Another client (named by the trusted loopback gateway) is not affected.
    assert _authenticate(stub, key, forwarded="198.51.100.7") is None


def test_successful_calls_do_not_count(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    for _ in range(LIMIT * 5):
        assert _authenticate(stub, key) is None
    error = _authenticate(stub, WRONG_KEY)
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED


# --- REST ------------------------------------------------------------------------------------


async def test_rest_answers_429_with_retry_after_for_that_client_only(
    gateway: Any, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    for _ in range(LIMIT):
        response = await gateway.post("/api/v2/authenticate", json={"access_key": WRONG_KEY})
        assert response.status == 401
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    assert response.status == 429
    body = await response.json()
    assert list(body) == ["error"] and "Too many failed attempts" in body["error"]
    assert 59 <= int(response.headers["Retry-After"]) <= 60
    # A client behind a proxy the service trusts (loopback) is someone else.
    other = await gateway.post(
        "/api/v2/authenticate",
        json={"access_key": key},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert other.status == 200


async def test_rest_clients_on_other_addresses_are_not_affected(
    gateway: Any, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    url = gateway.make_url("/api/v2/authenticate")
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as attacker:
        for _ in range(LIMIT):
            async with attacker.post(url, json={"access_key": WRONG_KEY}) as response:
                assert response.status == 401
        async with attacker.post(url, json={"access_key": key}) as response:
            assert response.status == 429
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    assert response.status == 200


@pytest.mark.parametrize("trusted", [()])
async def test_an_untrusted_client_cannot_escape_by_naming_another(
    aiohttp_client: Any,
    db: Any,
    settings: Settings,
    acme: tuple[Organization, str],
    trusted: tuple[str, ...],
) -> None:
    from gateway.app import create_app
    from server.app import create_server

    running = create_server(
        "127.0.0.1:0", dataclasses.replace(settings, trusted_proxies=trusted), db
    )
    try:
        client = await aiohttp_client(create_app(f"127.0.0.1:{running.port}"))
        for index in range(LIMIT):
            response = await client.post(
                "/api/v2/authenticate",
                json={"access_key": WRONG_KEY},
                headers={"X-Forwarded-For": f"198.51.100.{index}"},
            )
            assert response.status == 401
        response = await client.post(
            "/api/v2/authenticate",
            json={"access_key": WRONG_KEY},
            headers={"X-Forwarded-For": "198.51.100.99"},
        )
        assert response.status == 429
    finally:
        running.stop(None)
