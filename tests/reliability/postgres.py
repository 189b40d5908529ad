"""A throwaway PostgreSQL server for fault tests: initdb in a temporary directory, its own free
port on 127.0.0.1, stopped and started at will, removed afterwards.

The server is the `postgres` binary run as a child process (no `pg_ctl`, which once crashed
stopping it on a loaded machine), so it is stopped by its PID: fast shutdown (SIGINT), then
immediate shutdown (SIGQUIT) if that does not end in time, then SIGKILL for the postmaster and
each of its children. Every wait is bounded.

PostgreSQL refuses to run as root; when the tests do, the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

READY_TIMEOUT = 60.0
FAST_STOP_TIMEOUT = 30.0
IMMEDIATE_STOP_TIMEOUT = 10.0


def _version(bindir: str) -> tuple[int, ...]:
    found = re.search(r"/postgresql/([\d.]+)/bin", bindir)
    return tuple(int(part) for part in found.group(1).split(".")) if found else ()


def find_bindir() -> Path | None:
    """The directory of initdb and postgres (PG_BINDIR, else PATH, else the newest Debian
    install under /usr/lib/postgresql), or None when PostgreSQL is not installed."""
    chosen = os.environ.get("PG_BINDIR")
    if chosen:
        return Path(chosen) if (Path(chosen) / "initdb").exists() else None
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    installed = [str(Path(p).parent) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    return Path(max(installed, key=_version)) if installed else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_pids(pid: int) -> list[int]:
    """The child processes of `pid` (a postmaster's backends and workers)."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


class ThrowawayPostgres:
    """One PostgreSQL cluster of its own; `url` reaches its `postgres` database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="meetings-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "log"
        self.process: subprocess.Popen[bytes] | None = None
        # Who runs initdb and the server: this process's user, or `postgres` instead of root.
        self._user: int | None = None
        self._group: int | None = None
        self._extra_groups: list[int] | None = None
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._user, self._group, self._extra_groups = account.pw_uid, account.pw_gid, []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        command = [
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync",
        ]  # fmt: skip
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=180,
            cwd=self.root,
            user=self._user,
            group=self._group,
            extra_groups=self._extra_groups,
        )

    def start(self) -> None:
        """Starts the server and waits until it accepts connections."""
        if self.running():
            return
        command = [
            str(self.bindir / "postgres"), "-D", str(self.data),
            "-c", f"port={self.port}", "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.root}", "-c", "fsync=off",
            "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
        ]  # fmt: skip
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                # Its own session: a Ctrl-C meant for pytest does not reach it.
                start_new_session=True,
                user=self._user,
                group=self._group,
                extra_groups=self._extra_groups,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._accepts_connections():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("PostgreSQL did not start:\n" + self.log_tail())
            time.sleep(0.05)

    def _accepts_connections(self) -> bool:
        try:
            psycopg2.connect(self.url, connect_timeout=2).close()
        except psycopg2.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """Stops the server by its PID: fast, then immediate, then SIGKILL; returns once the
        postmaster and every child it had are gone."""
        process, self.process = self.process, None
        if process is None:
            return
        for signum, timeout in (
            (signal.SIGINT, FAST_STOP_TIMEOUT),
            (signal.SIGQUIT, IMMEDIATE_STOP_TIMEOUT),
        ):
            if process.poll() is not None:
                break
            process.send_signal(signum)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        if process.poll() is None:
            children = child_pids(process.pid)
            for pid in [*children, process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(timeout=30)
            deadline = time.monotonic() + 30
            while any(map(alive, children)) and time.monotonic() < deadline:
                time.sleep(0.05)
            # Left by a killed postmaster; the next start must not take it for a live one.
            (self.data / "postmaster.pid").unlink(missing_ok=True)
        process.wait(timeout=30)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
