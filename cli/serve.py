"""`meetings serve`: the gRPC server and the REST gateway in one process, stopped cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from gateway.app import create_app
from server.app import create_server
from server.config import Settings
from store.database import open_database
from store.schema import migrate

log = logging.getLogger("meetings")


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


async def serve(settings: Settings, banner: str | None = None) -> None:
    """Serve both APIs until SIGTERM or SIGINT, then finish the requests in flight."""
    database = open_database(settings.database_url)
    migrate(database)
    grpc_server = create_server(settings.grpc_address, settings, database)
    grpc_host, _ = split_address(settings.grpc_address)
    upstream = (
        f"{grpc_host if grpc_host not in ('0.0.0.0', '::') else '127.0.0.1'}:{grpc_server.port}"
    )
    runner = web.AppRunner(
        create_app(upstream), shutdown_timeout=settings.grace_seconds, access_log=None
    )
    await runner.setup()
    http_host, http_port = split_address(settings.http_address)
    site = web.TCPSite(runner, http_host, http_port, reuse_address=True)
    await site.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    sockets = getattr(site._server, "sockets", None) or []
    bound = [s.getsockname() for s in sockets]
    http_port = bound[0][1] if bound else http_port
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
    await runner.cleanup()
    await asyncio.to_thread(grpc_server.stop, settings.grace_seconds)
    database.close()
    print("meetings: stopped", flush=True)
