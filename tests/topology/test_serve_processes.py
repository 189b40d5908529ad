"""`meetings serve` runs the gRPC server and the gateway as a process each under the one
started (their interpreters do not share a lock); `--one-process` keeps both in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import peewee
import pytest

from store.models import Organization
from tests.processes import run_cli
from tests.topology.launch import SERVE_READY, launched, worker_pids
from tests.topology.test_workers import grpc_authenticate, post_json


def serve_args(database_url: str) -> list[str]:
    return ["serve", "--database", database_url, "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"]


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def answers_both_apis(grpc_port: int, http_port: int, org: Organization, key: str) -> None:
    status, body = post_json(
        f"http://127.0.0.1:{http_port}/api/v2/authenticate", {"access_key": key}
    )
    assert status == 200 and body["token"].count(".") == 2
    assert grpc_authenticate(grpc_port, key) == org.id


def test_serve_runs_each_tier_in_a_process_of_its_own(
    database_url: str, db: peewee.Database, acme: tuple[Organization, str]
) -> None:
    org, key = acme
    db.close()
    with launched(*serve_args(database_url), ready=SERVE_READY) as served:
        children = worker_pids(served.pid)
        commands = sorted(
            next(arg for arg in command_line(pid) if arg in ("grpc-server", "gateway"))
            for pid in children
        )
        assert commands == ["gateway", "grpc-server"]
        answers_both_apis(served.port(2), served.port(4), org, key)
        assert served.stop() == 0


@pytest.mark.parametrize(
    ("flags", "env"),
    [(("--one-process",), {}), ((), {"MEETINGS_ONE_PROCESS": "true"})],
    ids=["flag", "environment"],
)
def test_one_process_serves_both_tiers_in_the_process_started(
    database_url: str,
    db: peewee.Database,
    acme: tuple[Organization, str],
    flags: tuple[str, ...],
    env: dict[str, str],
) -> None:
    org, key = acme
    db.close()
    with launched(*serve_args(database_url), *flags, ready=SERVE_READY, env=env) as served:
        assert worker_pids(served.pid) == []
        answers_both_apis(served.port(2), served.port(4), org, key)
        assert served.stop() == 0


def test_one_process_cannot_take_more_workers() -> None:
    result = run_cli("serve", "--one-process", "--workers", "2")
    assert result.returncode == 2
    assert "--one-process runs one process" in result.stderr


def test_an_unusable_one_process_value_is_named() -> None:
    result = run_cli("serve", env={"MEETINGS_ONE_PROCESS": "sometimes"})
    assert result.returncode == 2
    assert "MEETINGS_ONE_PROCESS must be one of" in result.stderr


def test_the_supervising_parent_loads_neither_tier() -> None:
    # The parent of every `serve` serves nothing itself: loading aiohttp and grpcio would
    # double its memory for nothing.
    probe = (
        "import sys, cli.main, cli.workers; "
        "print(sorted(m for m in ('aiohttp', 'grpc', 'gateway.app', 'server.app') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
