"""Command-line mistakes end in one line that names the value, and a non-zero exit: a database
that cannot be opened, a database URL of another kind, an address already in use. `meetings
-v` still shows the traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from cli.workers import GRPC_READY, Supervisor, Worker
from tests.processes import run_cli

SECRET = {"MEETINGS_JWT_SECRET": "process-test-secret-0123456789abcdef0123"}
ANY_PORT = ["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"]


def _commands(fixture: Path) -> dict[str, list[str]]:
    """Every command that opens the database, with what it needs besides --database."""
    return {
        "serve": ["serve", *ANY_PORT],
        "serve --one-process": ["serve", "--one-process", *ANY_PORT],
        "grpc-server": ["grpc-server", "--grpc", "127.0.0.1:0"],
        "grpc-server --workers 2": ["grpc-server", "--workers", "2", "--grpc", "127.0.0.1:0"],
        "demo": ["demo", "--meetings", "1"],
        "load": ["load", str(fixture)],
        "org create": ["org", "create", "Acme"],
        "org rotate-key": ["org", "rotate-key", "1"],
    }


COMMANDS = list(_commands(Path()))


def run(command: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    fixture = tmp_path / "fixture.json"
    fixture.write_text("{}")
    args = _commands(fixture)[command]
    return run_cli(*args, "--database", database_url, env=SECRET, timeout=60)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed, checked to be the only one, without traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sqlite_file_in_a_missing_folder_is_named(command: str, tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    url = f"sqlite:///{folder / 'meetings.db'}"
    line = error_line(run(command, url, tmp_path))
    assert url in line
    assert f"the folder {folder} does not exist" in line
    assert not folder.exists()


@pytest.fixture
def missing_postgres_database(postgres_url: str | None) -> str:
    """A database that does not exist, on the test PostgreSQL server."""
    if postgres_url is None:
        pytest.skip("needs PostgreSQL (MEETINGS_TEST_DATABASE_URL)")
    name = f"meetings_missing_{uuid.uuid4().hex[:8]}"
    return urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_postgres_database_that_does_not_exist_is_named(
    command: str, missing_postgres_database: str, tmp_path: Path
) -> None:
    line = error_line(run(command, missing_postgres_database, tmp_path))
    assert f"cannot open the database {missing_postgres_database}" in line
    name = urlsplit(missing_postgres_database).path.lstrip("/")
    assert f'database "{name}" does not exist' in line


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", ["serve", "demo", "org create"])
def test_a_postgres_server_that_does_not_answer_is_named(command: str, tmp_path: Path) -> None:
    url = f"postgresql://meetings:hunter2@127.0.0.1:{_closed_port()}/meetings"
    line = error_line(run(command, url, tmp_path))
    # The password stays out of the message.
    assert "hunter2" not in line
    assert "cannot open the database postgresql://meetings:***@127.0.0.1:" in line
    assert "Connection refused" in line


@pytest.mark.parametrize("command", ["serve", "grpc-server", "demo", "org rotate-key"])
def test_a_mysql_url_is_refused_as_unsupported(command: str, tmp_path: Path) -> None:
    line = error_line(run(command, "mysql://x", tmp_path))
    assert "unsupported database URL mysql://x" in line
    # It says which URLs work, and suggests no MySQL one.
    assert "sqlite:///" in line and "postgresql://" in line
    assert "mysql:///" not in line


def test_a_url_that_does_not_parse_is_named(tmp_path: Path) -> None:
    line = error_line(run("serve", "postgresql://meetings@db:port/meetings", tmp_path))
    assert "bad database URL postgresql://meetings@db:port/meetings" in line


def test_verbose_still_shows_the_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'meetings.db'}"
    result = run_cli("-v", "demo", "--database", url, timeout=60)
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert (
        result.stderr.rstrip().splitlines()[-1].startswith(f"Error: cannot open the database {url}")
    )


@pytest.fixture
def taken_address() -> Iterator[str]:
    """An address on which another program listens (without SO_REUSEPORT)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield f"127.0.0.1:{taken.getsockname()[1]}"


@pytest.mark.parametrize(
    ("args", "flag", "what"),
    [
        (["serve"], "--http", "HTTP"),
        (["serve", "--workers", "2"], "--grpc", "gRPC"),
        (["serve", "--one-process"], "--http", "HTTP"),
        (["serve", "--one-process"], "--grpc", "gRPC"),
        (["grpc-server"], "--grpc", "gRPC"),
        (["gateway"], "--http", "HTTP"),
        (["gateway", "--workers", "2"], "--http", "HTTP"),
    ],
)
def test_an_address_in_use_is_named(
    args: list[str], flag: str, what: str, taken_address: str, tmp_path: Path
) -> None:
    ports = {"--grpc": "127.0.0.1:0", "--http": "127.0.0.1:0", flag: taken_address}
    if args[0] == "gateway":
        del ports["--grpc"]
    elif args[0] == "grpc-server":
        del ports["--http"]
    addresses = [part for pair in ports.items() for part in pair]
    database = [] if args[0] == "gateway" else ["--database", f"sqlite:///{tmp_path / 'm.db'}"]
    result = run_cli(*args, *addresses, *database, env=SECRET, timeout=60)
    line = error_line(result)
    assert line == f"Error: cannot listen for {what} on {taken_address}: address already in use"


def test_a_worker_that_fails_before_it_is_ready_stops_the_group(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Past the parent's own checks (a port taken after them, say), a worker that exits
    # before its ready line still stops the whole group with exit status 1, and says which.
    failing = Worker("grpc-server#1", [sys.executable, "-c", "raise SystemExit(3)"], GRPC_READY, {})
    caplog.set_level(logging.ERROR, "meetings.workers")
    status = asyncio.run(Supervisor([failing], grace_seconds=1).run(lambda: None))
    assert status == 1
    assert "worker grpc-server#1 exited with status 3 before it was ready" in caplog.text
