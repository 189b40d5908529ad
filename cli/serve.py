"""The serving commands in one process: both tiers (`serve`), the gRPC tier, the gateway.

Each prints one ready line on stdout once it accepts requests, and "meetings: stopped" once a
SIGTERM/SIGINT stop has let the requests in flight finish:
- `serve`:       meetings: gRPC on HOST:PORT, HTTP on http://HOST:PORT
- `grpc-server`: meetings: gRPC on HOST:PORT
- `gateway`:     meetings: HTTP on http://HOST:PORT, upstream ADDRESS[,ADDRESS...]
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import peewee
from aiohttp import web

from cli.process import (
    STOP_SIGNALS,
    STOPPED_LINE,
    check_can_listen,
    ignore_stop_signals,
    listen_error,
    open_store,
    reachable_host,
    split_address,
)
from gateway.app import create_app
from gateway.limits import GatewayRunner
from gateway.observability import ACCESS_LOG, JsonAccessLogger, configure_access_log
from server.app import RunningServer, create_server
from server.config import Settings
from store.database import close_database

log = logging.getLogger("meetings")

# How often a stop looks whether the HTTP responses have been sent.
FLUSH_POLL_SECONDS = 0.05


# Tasks that only set a stop event; referenced here so they are not collected.
_watchers: set[asyncio.Task[None]] = set()


def stop_signal(supervisor_pid: int | None = None) -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, or when the supervising parent is gone.

    Install it before printing the ready line, so that a stop sent right after it is a clean
    stop rather than the default (abrupt) action of the signal.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stopping.set()
        ignore_stop_signals(loop)

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal)
    if supervisor_pid is not None:
        watcher = loop.create_task(_stop_when_orphaned(supervisor_pid, stopping))
        _watchers.add(watcher)
        watcher.add_done_callback(_watchers.discard)
    return stopping


async def _stop_when_orphaned(supervisor_pid: int, stopping: asyncio.Event) -> None:
    # A worker whose parent died is adopted by another process: its parent pid changes.
    while not stopping.is_set():
        if os.getppid() != supervisor_pid:
            log.warning("the supervising process %d is gone; stopping", supervisor_pid)
            stopping.set()
            return
        await asyncio.sleep(1.0)


def site_port(site: web.TCPSite, requested: int) -> int:
    """The port a site listens on (the one the kernel chose when 0 was asked for)."""
    sockets = getattr(site._server, "sockets", None) or []
    bound = [s.getsockname() for s in sockets]
    return int(bound[0][1]) if bound else requested


async def start_gateway(
    upstreams: Sequence[str], settings: Settings, *, reuse_port: bool = False
) -> tuple[web.AppRunner, int]:
    """The gateway listening on settings.http_address; returns its runner and port."""
    configure_access_log()
    runner = GatewayRunner(
        create_app(upstreams),
        shutdown_timeout=settings.grace_seconds,
        access_log_class=JsonAccessLogger,
        access_log=ACCESS_LOG,
    )
    await runner.setup()
    http_host, http_port = split_address(settings.http_address)
    site = web.TCPSite(runner, http_host, http_port, reuse_address=True, reuse_port=reuse_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise listen_error(settings.http_address, "HTTP", exc) from None
    return runner, site_port(site, http_port)


def start_grpc(settings: Settings, database: peewee.Database, **options: Any) -> RunningServer:
    """The gRPC server listening on settings.grpc_address (one line when it cannot)."""
    try:
        return create_server(settings.grpc_address, settings, database, **options)
    except OSError as exc:
        close_database(database)
        raise listen_error(settings.grpc_address, "gRPC", exc) from None


async def stop_gateway(runner: web.AppRunner, grace: float) -> None:
    """Stop taking HTTP requests, let those in flight finish, and wait until what they wrote
    has left the process, all within `grace` seconds.

    aiohttp hands a finished response to its transport, which sends what a slow reader has
    not taken yet from the event loop, after the handler returned: a process that exited right
    after `cleanup()` would drop those bytes and cut a streamed export short of its end.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    for site in list(runner.sites):
        await site.stop()
    server = runner.server
    connections = server.connections if server is not None else []
    transports = [c.transport for c in connections if c.transport is not None]
    await runner.cleanup()
    while any(t.get_write_buffer_size() for t in transports) and loop.time() < deadline:
        await asyncio.sleep(FLUSH_POLL_SECONDS)


async def serve(settings: Settings, banner: str | None = None) -> None:
    """Serve both APIs until SIGTERM or SIGINT, then finish the requests in flight."""
    # A taken port fails at once, before the database is opened and migrated.
    check_can_listen(settings.grpc_address, "gRPC")
    check_can_listen(settings.http_address, "HTTP")
    database = open_store(settings)
    grpc_server = start_grpc(settings, database)
    grpc_host, _ = split_address(settings.grpc_address)
    upstream = f"{reachable_host(grpc_host)}:{grpc_server.port}"
    try:
        runner, http_port = await start_gateway([upstream], settings)
    except BaseException:
        await asyncio.to_thread(grpc_server.stop, 0)
        close_database(database)
        raise
    http_host, _ = split_address(settings.http_address)
    stopping = stop_signal()
    print(
        f"meetings: gRPC on {grpc_host}:{grpc_server.port}, HTTP on http://{http_host}:{http_port}",
        flush=True,
    )
    if banner:
        print(
            banner.format(grpc=f"{grpc_host}:{grpc_server.port}", http=f"{http_host}:{http_port}"),
            flush=True,
        )
    await stopping.wait()
    log.info("stopping: finishing requests in flight (up to %.0fs)", settings.grace_seconds)
    # Stop taking HTTP requests and let those in flight finish, then do the same for gRPC.
    await stop_gateway(runner, settings.grace_seconds)
    await asyncio.to_thread(grpc_server.stop, settings.grace_seconds)
    close_database(database)
    print(STOPPED_LINE, flush=True)


async def serve_grpc(
    settings: Settings,
    *,
    reuse_port: bool = False,
    extra_addresses: Sequence[str] = (),
    supervisor_pid: int | None = None,
) -> None:
    """Serve the gRPC API alone until SIGTERM or SIGINT, then finish the RPCs in flight."""
    if not reuse_port:  # a worker shares its port with its siblings: its parent checked it
        check_can_listen(settings.grpc_address, "gRPC")
    database = open_store(settings)
    grpc_server = start_grpc(
        settings, database, reuse_port=reuse_port, extra_addresses=extra_addresses
    )
    grpc_host, _ = split_address(settings.grpc_address)
    stopping = stop_signal(supervisor_pid)
    print(f"meetings: gRPC on {grpc_host}:{grpc_server.port}", flush=True)
    await stopping.wait()
    log.info("stopping: finishing RPCs in flight (up to %.0fs)", settings.grace_seconds)
    await asyncio.to_thread(grpc_server.stop, settings.grace_seconds)
    close_database(database)
    print(STOPPED_LINE, flush=True)


async def serve_gateway(
    settings: Settings, *, reuse_port: bool = False, supervisor_pid: int | None = None
) -> None:
    """Serve the REST gateway alone until SIGTERM or SIGINT, then finish requests in flight."""
    if not reuse_port:
        check_can_listen(settings.http_address, "HTTP")
    runner, http_port = await start_gateway(settings.upstreams, settings, reuse_port=reuse_port)
    http_host, _ = split_address(settings.http_address)
    upstreams = ",".join(settings.upstreams)
    stopping = stop_signal(supervisor_pid)
    print(f"meetings: HTTP on http://{http_host}:{http_port}, upstream {upstreams}", flush=True)
    await stopping.wait()
    log.info("stopping: finishing requests in flight (up to %.0fs)", settings.grace_seconds)
    await stop_gateway(runner, settings.grace_seconds)
    print(STOPPED_LINE, flush=True)
