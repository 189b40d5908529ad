"""`meetings serve` as a user starts it, in a process of its own, and what it uses.

The service is started on free ports of 127.0.0.1, waited for by its ready line, and stopped
by its PID (SIGTERM, then SIGKILL after a bound). Its resident memory is read from
/proc/PID/status, for the process and every descendant.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BIN = Path(sys.executable).parent
MEETINGS = str(BIN / "meetings")
READY = re.compile(r"gRPC on (\S+):(\d+), HTTP on http://(\S+):(\d+)")
# Fixed, so cached SQLite files get no secret file beside them; used on 127.0.0.1 only.
JWT_SECRET = "bench-secret-not-for-production-0123456789"
READY_SECONDS = 300  # a first start migrates the schema, which may build indexes
STOP_SECONDS = 15


@dataclass
class Service:
    process: subprocess.Popen[str]
    grpc_port: int
    http_port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def code_environment(source: Path | None) -> dict[str, str]:
    """The environment a `meetings` command runs in: the bench's signing secret, and the code
    of `source` (a checkout of another revision) when given, else this checkout's."""
    env = {**os.environ, "MEETINGS_JWT_SECRET": JWT_SECRET}
    if source is not None:
        # Ahead of the installed project: its packages, and the generated code beside them.
        env["PYTHONPATH"] = os.pathsep.join([str(source), str(source / "generated")])
    return env


@contextmanager
def serving(
    database_url: str, log_path: Path, *extra: str, source: Path | None = None
) -> Iterator[Service]:
    """A fresh `meetings serve` on `database_url`; stopped (by PID) when the block ends.

    `source`: a checkout of another revision to run the service's code from (bench.compare).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("a")
    env = {**code_environment(source), "MEETINGS_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [MEETINGS, "serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        # serve's workers run `python -m cli.main`, which puts the working directory ahead of
        # PYTHONPATH: from this checkout, the base's workers would run this checkout's code.
        cwd=source,
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + READY_SECONDS
        match = None
        while match is None:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise RuntimeError(f"meetings serve was not ready in time; see {log_path}")
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"meetings serve exited; see {log_path}")
            match = READY.search(line)
        selector.close()
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        yield Service(process, int(match.group(2)), int(match.group(4)), log_path)
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM by PID, then SIGKILL if it has not stopped within STOP_SECONDS."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _status_kib(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """The process and all its descendants (from /proc/PID/task/*/children)."""
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        tasks = Path(f"/proc/{current}/task")
        try:
            for task in tasks.iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
        except OSError:
            continue
    return found


@dataclass
class MemoryWatch:
    """Samples VmRSS of a process tree every `interval` seconds while it runs; the peak is
    the larger of the sampled sum and the kernel's high-water marks (VmHWM) summed."""

    pid: int
    interval: float = 0.02
    peak_rss_kib: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> MemoryWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _sample(self) -> None:
        total = sum(_status_kib(pid, "VmRSS") for pid in descendants(self.pid))
        self.peak_rss_kib = max(self.peak_rss_kib, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def high_water_kib(self) -> int:
        """VmHWM summed over the tree: the peak since each process started."""
        return sum(_status_kib(pid, "VmHWM") for pid in descendants(self.pid))

    def rss_kib(self) -> int:
        return sum(_status_kib(pid, "VmRSS") for pid in descendants(self.pid))


# `meetings serve`'s workers by what their command line runs (cli.workers starts them).
ROLES = (("grpc-server", "gRPC"), ("gateway", "gateway"))


def cpu_by_role(pid: int) -> dict[str, float]:
    """CPU seconds (user and system) each part of `meetings serve` has used so far: its gRPC
    server and its gateway processes, and the supervising parent."""
    found: dict[str, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for process in descendants(pid):
        try:
            stat = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{process}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        words = {word.decode(errors="replace") for word in command}
        role = next((name for word, name in ROLES if word in words), "supervisor")
        found[role] = found.get(role, 0.0) + (int(stat[11]) + int(stat[12])) / ticks
    return found
