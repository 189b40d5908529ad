"""Running the real `meetings` command in tests, bounded in time and stopped by PID."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
MEETINGS = str(BIN / "meetings")
GRPCURL = str(BIN / "grpcurl")
READY = re.compile(r"gRPC on (\S+):(\d+), HTTP on http://(\S+):(\d+)")


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MEETINGS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def cli_values(output: str) -> dict[str, str]:
    """`key: value` lines of a command's output."""
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


@dataclass
class Served:
    process: subprocess.Popen[str]
    grpc_port: int
    http_port: int

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@contextmanager
def serving(database_url: str, env: dict[str, str] | None = None, *extra: str) -> Iterator[Served]:
    """`meetings serve` on free ports; waits for its ready line, and stops it afterwards."""
    process = subprocess.Popen(
        [
            MEETINGS,
            "serve",
            "--database",
            database_url,
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        seen = []
        match = None
        while match is None:
            if time.monotonic() > deadline or not selector.select(deadline - time.monotonic()):
                raise AssertionError("meetings serve did not become ready: " + "".join(seen))
            line = process.stdout.readline()
            if not line:
                raise AssertionError("meetings serve exited: " + "".join(seen))
            seen.append(line)
            match = READY.search(line)
        yield Served(process, int(match.group(2)), int(match.group(4)))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
