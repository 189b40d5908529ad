"""Running `meetings` serving commands as real processes: bounded in time, stopped by PID.

Like tests/processes.py, for every serving command (`grpc-server`, `gateway`, `--workers`),
with the output read on a thread so a chatty process never blocks on a full pipe, and with
helpers to see worker processes and sockets through /proc (Linux).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import MEETINGS

GRPC_READY = re.compile(r"^meetings: gRPC on (\S+):(\d+)$")
HTTP_READY = re.compile(r"^meetings: HTTP on http://(\S+):(\d+), upstream (\S+)$")
SERVE_READY = re.compile(r"^meetings: gRPC on (\S+):(\d+), HTTP on http://(\S+):(\d+)$")
SECRET_ENV = {"MEETINGS_JWT_SECRET": "topology-test-secret-0123456789abcdef012"}
# Short stops keep failing tests fast; requests here take milliseconds. The failover stream
# sends wrong keys on purpose: brute-force protection (tests/reliability) would answer 429.
FAST_STOP_ENV = {"MEETINGS_GRACE_SECONDS": "3", "MEETINGS_AUTH_FAILURE_LIMIT": "0"}
READY_TIMEOUT = 60.0


@dataclass
class Launched:
    """A running `meetings` process and everything it printed so far."""

    process: subprocess.Popen[str]
    ready: re.Match[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def port(self, group: int = 2) -> int:
        return int(self.ready.group(group))

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (waits at most `timeout` seconds)."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        if self.reader is not None:
            self.reader.join(timeout=5)
        return code


@contextlib.contextmanager
def launched(
    *args: str, ready: re.Pattern[str], env: dict[str, str] | None = None
) -> Iterator[Launched]:
    """`meetings ARGS...` until its ready line; killed by PID (workers first) afterwards."""
    process = subprocess.Popen(
        [MEETINGS, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **SECRET_ENV, **FAST_STOP_ENV, **(env or {})},
    )
    lines: list[str] = []
    matched: list[re.Match[str]] = []
    seen_ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = ready.match(line.rstrip("\n"))
            if match and not matched:
                matched.append(match)
                seen_ready.set()
        seen_ready.set()  # end of output: the process is gone

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not seen_ready.wait(READY_TIMEOUT) or not matched:
            raise AssertionError(f"meetings {args[0]} did not become ready:\n" + "".join(lines))
        yield Launched(process, matched[0], lines, reader)
    finally:
        if process.poll() is None:
            for pid in [*worker_pids(process.pid), process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def worker_pids(pid: int) -> list[int]:
    """The child processes of `pid` (a `--workers` parent's workers)."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _tcp_entries() -> Iterator[tuple[int, str]]:
    """(local port, state) of every TCP socket; IPv4 and IPv6 (gRPC listens dual-stack)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                yield int(fields[1].rsplit(":", 1)[1], 16), fields[3]


def listening_sockets(port: int) -> int:
    """How many sockets listen on `port` (several with SO_REUSEPORT)."""
    return sum(1 for local, state in _tcp_entries() if local == port and state == "0A")


def accepted_connections(port: int) -> int:
    """How many established connections a server on `port` has accepted."""
    return sum(1 for local, state in _tcp_entries() if local == port and state == "01")


def bytes_written(pid: int) -> int:
    """Bytes a process has written to files and sockets (its RPC answers, for a server)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "wchar":
            return int(value)
    raise AssertionError(f"no wchar in /proc/{pid}/io")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 50 ms; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)
