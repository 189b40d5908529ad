"""`--workers N`: several processes per tier on one port, supervised by a parent process."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import grpc
import peewee
from prometheus_client.parser import text_string_to_metric_families

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.metrics import POOL_PUBLISH_SECONDS
from store.models import Organization
from tests.processes import run_cli
from tests.topology.launch import (
    GRPC_READY,
    HTTP_READY,
    SECRET_ENV,
    SERVE_READY,
    launched,
    listening_sockets,
    wait_until,
    worker_pids,
)


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def grpc_authenticate(port: int, key: str) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.MeetingsServiceStub(channel)
        reply = stub.Authenticate(pb.AuthenticateRequest(access_key=key), timeout=10)
        return int(reply.organization_id)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def serve_two_workers(database_url: str) -> Any:
    """`meetings serve --workers 2` on free local ports, stopped when the block ends."""
    return launched(
        "serve",
        "--database",
        database_url,
        "--grpc",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--workers",
        "2",
        ready=SERVE_READY,
    )


def test_serve_with_two_workers_answers_both_apis_and_stops_with_exit_0_on_sigterm(
    database_url: str, db: peewee.Database, acme: tuple[Organization, str]
) -> None:
    org, key = acme
    db.close()
    with serve_two_workers(database_url) as served:
        grpc_port, http_port = served.port(2), served.port(4)
        workers = worker_pids(served.pid)
        assert len(workers) == 4
        assert listening_sockets(grpc_port) == 2
        assert listening_sockets(http_port) == 2
        for _ in range(4):
            status, body = post_json(
                f"http://127.0.0.1:{http_port}/api/v2/authenticate", {"access_key": key}
            )
            assert status == 200 and body["token"].count(".") == 2
            assert grpc_authenticate(grpc_port, key) == org.id
        probe = run_cli(
            "health",
            env={
                "MEETINGS_GRPC_ADDRESS": f"127.0.0.1:{grpc_port}",
                "MEETINGS_HTTP_ADDRESS": f"127.0.0.1:{http_port}",
            },
        )
        assert probe.returncode == 0, probe.stdout
        assert "SERVING" in probe.stdout and "ok" in probe.stdout

        assert served.stop() == 0
        assert "meetings: stopped" in served.output
        assert not any(alive(pid) for pid in workers)
        # Gateways stop first, so requests they finish still find the gRPC workers up.
        lines = served.output.splitlines()
        gateways_stop = [i for i, line in enumerate(lines) if "finishing requests" in line]
        servers_stop = [i for i, line in enumerate(lines) if "finishing RPCs" in line]
        assert len(gateways_stop) == len(servers_stop) == 2
        assert max(gateways_stop) < min(servers_stop)


def test_each_tier_runs_workers_apart_and_a_killed_worker_is_replaced(
    database_url: str, db: peewee.Database, acme: tuple[Organization, str]
) -> None:
    org, key = acme
    db.close()
    with (
        launched(
            "grpc-server",
            "--database",
            database_url,
            "--grpc",
            "127.0.0.1:0",
            "--workers",
            "2",
            ready=GRPC_READY,
        ) as grpc_tier,
        launched(
            "gateway",
            "--upstream",
            f"127.0.0.1:{grpc_tier.port()}",
            "--http",
            "127.0.0.1:0",
            "--workers",
            "2",
            ready=HTTP_READY,
        ) as gateway_tier,
    ):
        grpc_port, http_port = grpc_tier.port(), gateway_tier.port()
        assert listening_sockets(grpc_port) == 2
        assert listening_sockets(http_port) == 2
        first_workers = worker_pids(grpc_tier.pid)
        assert len(first_workers) == 2

        os.kill(first_workers[0], signal.SIGKILL)
        wait_until(
            lambda: (
                len(set(worker_pids(grpc_tier.pid)) - set(first_workers)) == 1
                and listening_sockets(grpc_port) == 2
            ),
            30,
            "the killed gRPC worker to be replaced",
        )
        assert "worker grpc-server#1 exited with status -9" in grpc_tier.output
        for _ in range(6):
            assert grpc_authenticate(grpc_port, key) == org.id
            status, _ = post_json(
                f"http://127.0.0.1:{http_port}/api/v2/authenticate", {"access_key": key}
            )
            assert status == 200
        probe = run_cli("health", "--http", f"127.0.0.1:{http_port}", "--ready")
        assert probe.returncode == 0, probe.stdout

        assert gateway_tier.stop() == 0
        # A parent that dies without a word (SIGKILL) leaves no worker behind.
        workers = worker_pids(grpc_tier.pid)
        os.kill(grpc_tier.pid, signal.SIGKILL)
        grpc_tier.process.wait(timeout=10)
        wait_until(lambda: not any(alive(pid) for pid in workers), 15, "orphaned workers to stop")


def test_a_group_whose_port_is_taken_exits_1_before_starting_workers() -> None:
    with socket.socket() as taken:
        # Held without SO_REUSEPORT: no worker could share it, so the parent says so at once.
        # (A worker failing before it is ready: tests/test_cli_errors.py.)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "gateway",
            "--upstream",
            "127.0.0.1:1",
            "--http",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            env=SECRET_ENV,
            timeout=90,
        )
    assert result.returncode == 1
    assert f"cannot listen for HTTP on 127.0.0.1:{port}: address already in use" in result.stderr
    assert "worker" not in result.stderr


def test_gateway_refuses_upstreams_it_cannot_balance() -> None:
    result = run_cli("gateway", "--upstream", "grpc-1:50051", "--upstream", "grpc-2:50051")
    assert result.returncode == 2
    assert "give that one name" in result.stderr


def test_an_unusable_environment_variable_is_named() -> None:
    result = run_cli("grpc-server", env={"MEETINGS_DB_POOL_SIZE": "lots"})
    assert result.returncode == 2
    assert "MEETINGS_DB_POOL_SIZE must be an integer" in result.stderr


def test_health_fails_when_nothing_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = f"127.0.0.1:{probe.getsockname()[1]}"
    result = run_cli("health", "--grpc", free)
    assert result.returncode == 1
    assert "not listening" in result.stdout


def scraped(http_port: int, name: str, **labels: str) -> float:
    """The value of one sample of GET /metrics (0 when absent), over a new connection."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as page:
        text = page.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_every_gateway_of_a_group_shows_the_whole_groups_metrics(
    database_url: str, db: peewee.Database, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    db.close()
    with serve_two_workers(database_url) as served:
        http_port = served.port(4)
        workers = worker_pids(served.pid)
        with open(f"/proc/{workers[0]}/environ", "rb") as environ:
            variables = dict(
                entry.decode().partition("=")[::2] for entry in environ.read().split(b"\0") if entry
            )
        metrics_dir = variables["PROMETHEUS_MULTIPROC_DIR"]
        # Each request on a connection of its own: the kernel spreads them over both gateways,
        # and the gateways over both gRPC workers.
        for _ in range(6):
            status, _ = post_json(
                f"http://127.0.0.1:{http_port}/api/v2/authenticate", {"access_key": key}
            )
            assert status == 200
        route = "/api/v2/authenticate"
        for _ in range(4):  # whichever gateway a scrape reaches, it counts all six
            http = scraped(http_port, "meetings_http_requests_total", route=route, status="200")
            rpcs = scraped(
                http_port, "grpc_server_handled_total", grpc_method="Authenticate", grpc_code="OK"
            )
            assert (http, rpcs) == (6, 6)
        # The gRPC workers' pools, published into the group's files (read on a scrape of
        # any gateway): each worker lent a connection and has it back, idle.
        deadline = time.monotonic() + 10 * POOL_PUBLISH_SECONDS
        while scraped(http_port, "meetings_db_pool_connections", state="idle") < 1:
            assert time.monotonic() < deadline, "no pool gauges on the gateway's /metrics"
            time.sleep(POOL_PUBLISH_SECONDS / 4)
        assert scraped(http_port, "meetings_db_pool_connections", state="in_use") == 0
        assert served.stop() == 0
    assert not os.path.exists(metrics_dir)
