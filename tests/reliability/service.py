"""`meetings serve` for long runs (fuzz, soak): its output goes to a file, not a pipe that
nobody drains (a full pipe would stall the service on its next log line)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import MEETINGS, READY, Served


@contextmanager
def serving_to_file(
    database_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """`meetings serve` on free loopback ports, logging to `log_path`; SIGTERM then SIGKILL
    (by PID) afterwards."""
    with open(log_path, "w") as log:
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
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 60
        match = None
        while match is None:
            if process.poll() is not None:
                raise RuntimeError("meetings serve exited: " + log_path.read_text()[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError("meetings serve did not become ready")
            match = READY.search(log_path.read_text())
            time.sleep(0.05)
        yield Served(process, int(match.group(2)), int(match.group(4)))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
