"""Running the real `meetings` command in tests, bounded in time and stopped by PID.

A served process writes its output (stdout and stderr) to a file, never to a pipe: a pipe
that nobody drains fills up after 64 KiB, and the service would then stall on its next log
line, in the middle of whatever the test is measuring.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
MEETINGS = str(BIN / "meetings")
GRPCURL = str(BIN / "grpcurl")
READY = re.compile(r"gRPC on (\S+):(\d+), HTTP on http://(\S+):(\d+)")
READY_TIMEOUT = 60.0
# How often a wait for output reads the log again.
POLL_SECONDS = 0.02


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
    """A running `meetings serve`. Its `process.stdout` reads the log file, like a pipe would
    (from where the last read stopped)."""

    process: subprocess.Popen[str]
    grpc_port: int
    http_port: int
    log_path: Path

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def output(self) -> str:
        """Everything the process has printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first match of `pattern` in the output, waiting at most `timeout` seconds."""
        return _wait_for_output(self.process, self.log_path, pattern, timeout)


def _wait_for_output(
    process: subprocess.Popen[str], log_path: Path, pattern: re.Pattern[str], timeout: float
) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while True:
        exited = process.poll() is not None
        output = log_path.read_text(errors="replace")
        match = pattern.search(output)
        if match is not None:
            return match
        tail = output[-4000:]
        if exited:
            code = process.returncode
            raise AssertionError(f"meetings exited ({code}) before {pattern.pattern!r}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern.pattern!r} within {timeout}s:\n{tail}")
        time.sleep(POLL_SECONDS)


def stop_process(process: subprocess.Popen[str], grace: float = 0) -> None:
    """Stops `process` by its PID: SIGTERM and up to `grace` seconds for a clean stop (none
    when 0), then SIGKILL."""
    if process.poll() is None and grace > 0:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@contextmanager
def serving(
    database_url: str,
    env: dict[str, str] | None = None,
    *extra: str,
    log_path: Path | None = None,
    stop_grace: float = 0,
) -> Iterator[Served]:
    """`meetings serve` on free loopback ports, logging to `log_path` (a temporary file when
    not given); waits for its ready line, and afterwards stops it by PID (`stop_process`)."""
    with ExitStack() as stack:
        if log_path is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="meetings-serve-"))
            log_path = Path(folder) / "serve.log"
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
                    *extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                env={**os.environ, **(env or {})},
            )
        stack.callback(stop_process, process, stop_grace)
        process.stdout = stack.enter_context(open(log_path, errors="replace"))
        ready = _wait_for_output(process, log_path, READY, READY_TIMEOUT)
        yield Served(process, int(ready.group(2)), int(ready.group(4)), log_path)


@contextmanager
def serving_to_file(
    database_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """`serving` for long runs (fuzz, soak): the log kept at `log_path`, and up to 30 s for
    a clean stop afterwards."""
    with serving(database_url, env, log_path=log_path, stop_grace=30) as served:
        yield served
