"""`--workers N`: a parent process that runs the worker processes of one or both tiers.

The parent starts every worker (each a `meetings grpc-server` or `meetings gateway` with
`--workers 1`), waits until each printed its ready line, then prints its own. It forwards
SIGTERM/SIGINT to the workers (the gateways first, then the gRPC servers), waits for them to
finish what is in flight, and exits 0 when every worker stopped cleanly. A worker that dies
while serving is started again (after a pause that grows while it keeps dying young); one
that fails before the first ready line stops the whole group with exit status 1, as a bad
configuration would fail every restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client import multiprocess

from cli.process import (
    STOP_SIGNALS,
    STOPPED_LINE,
    check_can_listen,
    ignore_stop_signals,
    open_store,
    split_address,
)
from server.config import MULTIPROCESS_DIRECTORY, Settings, resolve_jwt_secret
from store.database import close_database

log = logging.getLogger("meetings.workers")

GRPC_READY = re.compile(r"^meetings: gRPC on \S+:\d+\s*$")
HTTP_READY = re.compile(r"^meetings: HTTP on http://\S+:\d+, upstream \S+\s*$")
# Restart pauses: the first, the longest, and how long a worker must live to reset them.
RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
STABLE_AFTER = 30.0
# How long workers get to print their ready line.
START_TIMEOUT = 60.0
# Beyond the configured grace, how long a stopping worker gets before it is killed.
STOP_MARGIN = 5.0


def worker_command(*args: str) -> list[str]:
    """The argv of a worker: a `meetings` subcommand run by this interpreter.

    `--supervisor-pid` makes the worker stop by itself when this parent is gone (even when
    it was killed with SIGKILL and could forward nothing), instead of serving on unsupervised.
    """
    return [sys.executable, "-m", "cli.main", *args, "--supervisor-pid", str(os.getpid())]


@dataclass
class Worker:
    """One supervised worker slot; its process changes when it is restarted."""

    name: str
    argv: list[str]
    ready_line: re.Pattern[str]
    env: dict[str, str]
    # Called before every start, e.g. to remove the unix socket a killed worker left.
    before_start: Callable[[], None] | None = None
    # Workers stop in stages, lowest first: gateways (0) before gRPC servers (1).
    stop_order: int = 0
    process: asyncio.subprocess.Process | None = None
    # Set by the first ready line: the group's startup waits on it.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Whether the current process printed its ready line.
    serving: bool = False
    exit_code: int | None = None
    restarts: int = 0


class WorkerFailed(Exception):
    """A worker exited before it was ever ready."""


class Supervisor:
    def __init__(
        self, workers: Sequence[Worker], grace_seconds: float, metrics_dir: str | None = None
    ) -> None:
        self.workers = list(workers)
        self.grace_seconds = grace_seconds
        # Where the workers write their metrics (see run_group), if anywhere.
        self.metrics_dir = metrics_dir
        self._stopping = asyncio.Event()
        self._stop_signal = signal.SIGTERM

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Begin stopping the group with `signum` (what the parent received)."""
        self._stop_signal = signal.Signals(signum)
        self._stopping.set()

    @staticmethod
    def _signal(worker: Worker, signum: int) -> None:
        if worker.process is not None and worker.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signum)

    async def run(self, on_ready: Callable[[], None]) -> int:
        """Run until stopped; returns the exit status (0: every worker stopped cleanly)."""
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            ignore_stop_signals(loop)
            self.stop(signum)

        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        keepers = {worker.name: asyncio.create_task(self._keep(worker)) for worker in self.workers}
        status = await self._until_stopped(list(keepers.values()), on_ready)
        self.stop(self._stop_signal)
        # Stage by stage: gateways first, so the requests they still finish find the gRPC
        # workers up, as `serve` does in one process.
        for order in sorted({worker.stop_order for worker in self.workers}):
            stage = [worker for worker in self.workers if worker.stop_order == order]
            await self._stop_stage(stage, [keepers[worker.name] for worker in stage])
        outcomes = await asyncio.gather(*keepers.values(), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                status = 1  # a worker that outlived SIGKILL; already reported
            elif isinstance(outcome, BaseException) and not isinstance(outcome, WorkerFailed):
                log.error("supervising failed", exc_info=outcome)
                status = 1
        unclean = [w for w in self.workers if not self._stopped_cleanly(w)]
        for worker in unclean:
            log.warning("worker %s exited with status %s", worker.name, worker.exit_code)
        return 1 if unclean else status

    async def _stop_stage(self, stage: list[Worker], keepers: list[asyncio.Task[None]]) -> None:
        """Signal these workers, give them the grace period, then kill what is left."""
        for worker in stage:
            self._signal(worker, self._stop_signal)
        _, late = await asyncio.wait(keepers, timeout=self.grace_seconds + STOP_MARGIN)
        if not late:
            return
        for worker in stage:
            if worker.process is not None and worker.process.returncode is None:
                log.warning("worker %s did not stop in time; killing it", worker.name)
                self._signal(worker, signal.SIGKILL)
        _, still = await asyncio.wait(late, timeout=STOP_MARGIN)
        for keeper in still:
            keeper.cancel()

    async def _until_stopped(
        self, keepers: list[asyncio.Task[None]], on_ready: Callable[[], None]
    ) -> int:
        stopping = asyncio.create_task(self._stopping.wait())
        all_ready = asyncio.create_task(self._all_ready())
        try:
            done, _ = await asyncio.wait(
                [*keepers, stopping, all_ready],
                timeout=START_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if all_ready not in done:
                if not done:
                    log.error("workers were not ready within %.0fs", START_TIMEOUT)
                    return 1
                return 0 if stopping in done else 1
            log.info("%d worker processes ready", len(self.workers))
            on_ready()
            # Keepers only end when stopping (or on a bug); either way the group stops.
            done, _ = await asyncio.wait([*keepers, stopping], return_when=asyncio.FIRST_COMPLETED)
            return 0 if stopping in done else 1
        finally:
            stopping.cancel()
            all_ready.cancel()

    async def _all_ready(self) -> None:
        for worker in self.workers:
            await worker.ready.wait()

    def _stopped_cleanly(self, worker: Worker) -> bool:
        if worker.exit_code == 0:
            return True
        # Stopped by our own signal before it could install its handler: nothing was lost.
        return not worker.serving and worker.exit_code == -self._stop_signal

    async def _keep(self, worker: Worker) -> None:
        """Run one worker, restarting it while the group is not stopping."""
        loop = asyncio.get_running_loop()
        delay = RESTART_DELAY
        while not self._stopping.is_set():
            started = loop.time()
            code = await self._run_once(worker)
            worker.exit_code = code
            if self._stopping.is_set():
                return
            if not worker.ready.is_set():
                log.error("worker %s exited with status %s before it was ready", worker.name, code)
                raise WorkerFailed(worker.name)
            worker.restarts += 1
            delay = RESTART_DELAY if loop.time() - started > STABLE_AFTER else delay
            log.warning(
                "worker %s exited with status %s; starting it again in %.1fs (restart %d)",
                worker.name,
                code,
                delay,
                worker.restarts,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            delay = min(delay * 2, MAX_RESTART_DELAY)

    async def _run_once(self, worker: Worker) -> int:
        if worker.before_start is not None:
            worker.before_start()
        worker.serving = False
        process = await asyncio.create_subprocess_exec(
            *worker.argv,
            env=worker.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            # Logs go straight to the parent's stderr.
            stderr=None,
            # Out of the terminal's process group: Ctrl-C reaches the parent alone, which
            # then stops the workers in order (a parent that dies is noticed by the workers).
            start_new_session=True,
        )
        worker.process = process
        log.info("worker %s started (pid %d)", worker.name, process.pid)
        if self._stopping.is_set():
            # Stopping began while this worker was being spawned: it has no work to finish.
            self._signal(worker, self._stop_signal)
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if worker.ready_line.match(line):
                worker.serving = True
                worker.ready.set()
            elif line != STOPPED_LINE:
                print(line, flush=True)
        code = await process.wait()
        if self.metrics_dir is not None:
            # Its gauges of things in progress end with it; its counters still count.
            multiprocess.mark_process_dead(process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
        return code


def reserve_port(address: str, what: str) -> tuple[socket.socket | None, str]:
    """For HOST:0, pick the port every worker will share; returns (reservation, HOST:PORT).

    Each worker asking for port 0 would get a port of its own. The parent binds one with
    SO_REUSEPORT and holds it (bound, never listening, so it takes no connections) for as
    long as the group runs, so no other program can take the port while workers restart.
    Any other port is checked here, once: taken, it fails the group with one line before a
    worker starts (every worker would fail on it, each with its own error).
    """
    host, _, port = address.rpartition(":")
    if port != "0":
        check_can_listen(address, what)
        return None, address
    bare = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    reservation = socket.socket(family, socket.SOCK_STREAM)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reservation.bind((bare, 0))
    chosen = reservation.getsockname()[1]
    return reservation, f"{host}:{chosen}"


def _unlink_socket(address: str) -> Callable[[], None]:
    path = address.removeprefix("unix:")

    def unlink() -> None:
        # A worker killed with SIGKILL leaves its socket file; binding again needs it gone.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    return unlink


@dataclass(frozen=True)
class WorkerPlan:
    """What the workers of a group share: their environment and the parent's -v flag."""

    env: dict[str, str]
    verbose: bool

    def argv(self, *args: str) -> list[str]:
        return worker_command(*(("-v",) if self.verbose else ()), *args)


def grpc_workers(
    plan: WorkerPlan, count: int, grpc_address: str, private_sockets: Sequence[str] = ()
) -> list[Worker]:
    """`count` gRPC server workers sharing `grpc_address`, each also on its private socket."""
    workers = []
    for index in range(count):
        args = ["grpc-server", "--grpc", grpc_address, "--workers", "1", "--reuse-port"]
        before_start = None
        if private_sockets:
            args += ["--also-listen", private_sockets[index]]
            before_start = _unlink_socket(private_sockets[index])
        workers.append(
            Worker(
                f"grpc-server#{index + 1}",
                plan.argv(*args),
                GRPC_READY,
                plan.env,
                before_start,
                stop_order=1,
            )
        )
    return workers


def gateway_workers(
    plan: WorkerPlan, count: int, http_address: str, upstreams: Sequence[str]
) -> list[Worker]:
    """`count` gateway workers sharing `http_address`, each balancing over `upstreams`."""
    args = ["gateway", "--http", http_address, "--workers", "1", "--reuse-port"]
    for upstream in upstreams:
        args += ["--upstream", upstream]
    return [
        Worker(f"gateway#{index + 1}", plan.argv(*args), HTTP_READY, plan.env)
        for index in range(count)
    ]


async def run_group(
    workers: Sequence[Worker],
    grace_seconds: float,
    on_ready: Callable[[], None],
    reservations: Sequence[socket.socket | None] = (),
) -> int:
    """Supervise `workers` until stopped; returns the exit status for the parent.

    The group's workers write their metrics to one directory of its own (prometheus-client's
    multiprocess mode), so each gateway's /metrics shows the whole group, not the one
    process a scrape happened to reach. It is new for every group (the mode needs it empty
    at start) and removed when the group stops.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="meetings-metrics-") as metrics_dir:
            for worker in workers:
                worker.env = {**worker.env, MULTIPROCESS_DIRECTORY: metrics_dir}
            status = await Supervisor(workers, grace_seconds, metrics_dir).run(on_ready)
    finally:
        for reservation in reservations:
            if reservation is not None:
                reservation.close()
    print(STOPPED_LINE, flush=True)
    return status


def worker_env(settings: Settings) -> dict[str, str]:
    """The parent's environment with its resolved settings, which flags may have changed.

    The database URL travels in the environment, not in argv, where any local user could
    read a password in it.
    """
    return {
        **os.environ,
        "MEETINGS_DATABASE_URL": settings.database_url,
        "MEETINGS_GRPC_WORKERS": str(settings.grpc_workers),
        "MEETINGS_GRACE_SECONDS": str(settings.grace_seconds),
        "MEETINGS_DB_POOL_SIZE": str(settings.db_pool_size),
        "MEETINGS_DB_STALE_TIMEOUT": str(settings.db_stale_timeout),
        "MEETINGS_DB_POOL_TIMEOUT": str(settings.db_pool_timeout),
        "MEETINGS_WORKERS": "1",
    }


def prepare_grpc_tier(settings: Settings) -> None:
    """Once, before any worker starts: migrate the schema and settle the signing secret."""
    close_database(open_store(settings))
    resolve_jwt_secret(settings)


async def serve_workers(settings: Settings, banner: str | None, verbose: bool) -> int:
    """`meetings serve` (without --one-process): N gRPC workers on one port, N gateways on
    another (N = --workers, 1 by default).

    The gateways reach the gRPC workers over private unix sockets, one per worker, and
    balance over all of them (round robin), so each worker gets its share and a dead one is
    skipped; the shared TCP port is for the gRPC API's own callers.
    """
    grpc_reservation, grpc_address = reserve_port(settings.grpc_address, "gRPC")
    http_reservation, http_address = reserve_port(settings.http_address, "HTTP")
    prepare_grpc_tier(settings)
    plan = WorkerPlan(worker_env(settings), verbose)
    with tempfile.TemporaryDirectory(prefix="meetings-") as socket_dir:
        sockets = [f"unix:{socket_dir}/grpc-{i + 1}.sock" for i in range(settings.workers)]
        workers = [
            *grpc_workers(plan, settings.workers, grpc_address, sockets),
            *gateway_workers(plan, settings.workers, http_address, sockets),
        ]
        grpc_host, grpc_port = split_address(grpc_address)
        http_host, http_port = split_address(http_address)

        def on_ready() -> None:
            print(
                f"meetings: gRPC on {grpc_host}:{grpc_port}, HTTP on http://{http_host}:{http_port}",
                flush=True,
            )
            if banner:
                print(
                    banner.format(grpc=f"{grpc_host}:{grpc_port}", http=f"{http_host}:{http_port}"),
                    flush=True,
                )

        return await run_group(
            workers, settings.grace_seconds, on_ready, (grpc_reservation, http_reservation)
        )


async def grpc_server_workers(settings: Settings, verbose: bool) -> int:
    """`meetings grpc-server --workers N`: N gRPC server processes on one port."""
    reservation, grpc_address = reserve_port(settings.grpc_address, "gRPC")
    prepare_grpc_tier(settings)
    plan = WorkerPlan(worker_env(settings), verbose)
    grpc_host, grpc_port = split_address(grpc_address)

    def on_ready() -> None:
        print(f"meetings: gRPC on {grpc_host}:{grpc_port}", flush=True)

    workers = grpc_workers(plan, settings.workers, grpc_address)
    return await run_group(workers, settings.grace_seconds, on_ready, (reservation,))


async def gateway_server_workers(settings: Settings, verbose: bool) -> int:
    """`meetings gateway --workers N`: N gateway processes on one port."""
    reservation, http_address = reserve_port(settings.http_address, "HTTP")
    plan = WorkerPlan(worker_env(settings), verbose)
    http_host, http_port = split_address(http_address)
    upstreams = ",".join(settings.upstreams)

    def on_ready() -> None:
        print(f"meetings: HTTP on http://{http_host}:{http_port}, upstream {upstreams}", flush=True)

    workers = gateway_workers(plan, settings.workers, http_address, settings.upstreams)
    return await run_group(workers, settings.grace_seconds, on_ready, (reservation,))
