"""Builds the gRPC server: the servicer behind its interceptor, health and reflection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import peewee
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.auth import Authenticator
from server.config import Settings, resolve_jwt_secret
from server.db_health import DatabaseHealth
from server.interceptors import MeetingsInterceptor
from server.metrics import MetricsInterceptor, watch_database_pool
from server.peers import TrustedProxies
from server.rpc_loop import LoopHandlers, LoopThread, ServiceCollector, declared_on_loop
from server.servicer import RUNS, MeetingsServicer
from server.throttle import FailureThrottle

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["MeetingsService"].full_name
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Every request message is a few hundred bytes; a megabyte is generous.
MAX_RECEIVE_BYTES = 1024 * 1024
# Metadata (headers) per call: a token is about 200 bytes.
MAX_METADATA_BYTES = 16 * 1024
# Clients keep a connection for this long at most, then reconnect: with client-side round
# robin over DNS that is how servers added by scaling up start receiving traffic. RPCs in
# flight (long exports included) finish on the old connection: the grace is unlimited.
MAX_CONNECTION_AGE_MS = 5 * 60 * 1000
# The gateway pings a quiet connection every half second to notice a backend that hangs or
# vanished without closing it (gateway.channel); accept pings twice that often. A stricter
# server (the default allows one per 5 minutes) answers GOAWAY "too_many_pings" and drops the
# connection, cutting a quiet export stream short.
MIN_CLIENT_PING_INTERVAL_MS = 250


class LoopHealth:
    """The health service's statuses, set from any thread (the database probe's included)."""

    def __init__(self, servicer: health_aio.HealthServicer, loop: LoopThread) -> None:
        self.servicer = servicer
        self._loop = loop

    def set(self, service: str, status: health_pb2.HealthCheckResponse.ServingStatus) -> None:
        self._loop.submit(self.servicer.set(service, status))

    def enter_graceful_shutdown(self) -> None:
        self._loop.submit(self.servicer.enter_graceful_shutdown())


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: LoopHealth
    loop: LoopThread
    handlers: LoopHandlers
    database_health: DatabaseHealth | None = None

    def stop(self, grace: float | None) -> None:
        """Refuse new RPCs, let those in flight finish within `grace` seconds, then stop.

        A second call does nothing (the server is stopped)."""
        if self.loop.closed:
            return
        if self.database_health is not None:
            self.database_health.stop()
        self.health.enter_graceful_shutdown()
        self.loop.call(self.server.stop(grace))
        self.handlers.shutdown()
        self.loop.stop()


def limit_connect_time(database: peewee.Database, seconds: int) -> None:
    """Make a new PostgreSQL connection give up after `seconds` (libpq's connect_timeout),
    unless the URL set its own, so an unreachable database answers UNAVAILABLE quickly."""
    if isinstance(database, peewee.PostgresqlDatabase):
        database.connect_params.setdefault("connect_timeout", seconds)


def create_server(
    address: str,
    settings: Settings,
    database: peewee.Database,
    *,
    reuse_port: bool = False,
    extra_addresses: Sequence[str] = (),
) -> RunningServer:
    """A started gRPC server on `address` (port 0 picks a free port), on a loop of its own.

    `reuse_port` lets several processes listen on the same port (SO_REUSEPORT; the kernel
    spreads connections over them); off, a second server on a taken port fails to start.
    `extra_addresses` are further listening addresses, such as a worker's private unix socket.
    """
    authenticator = Authenticator(resolve_jwt_secret(settings), settings.token_ttl, settings.clock)
    limit_connect_time(database, settings.db_connect_timeout)
    loop = LoopThread()
    health_status = LoopHealth(health_aio.HealthServicer(), loop)
    database_health = DatabaseHealth(
        database, health_status, ("", SERVICE_NAME), settings.db_probe_interval
    )
    interceptor = MeetingsInterceptor(
        database,
        authenticator,
        throttle=FailureThrottle(settings.auth_failure_limit, settings.auth_failure_period),
        proxies=TrustedProxies(settings.trusted_proxies),
        unary_timeout=settings.unary_timeout,
        on_database_unavailable=database_health.report_unavailable,
    )
    services = ServiceCollector()
    pb_grpc.add_MeetingsServiceServicer_to_server(
        MeetingsServicer(authenticator, settings.clock), services
    )
    handlers = LoopHandlers(
        services.handlers,
        [interceptor],
        workers=settings.grpc_workers,
        on_loop=on_loop_policy(database),
    )
    try:
        server, port = loop.call(
            _start(address, handlers, health_status.servicer, reuse_port, extra_addresses)
        )
    except BaseException:
        handlers.shutdown()
        loop.stop()
        raise
    watch_database_pool(database)
    database_health.start()
    return RunningServer(server, port, health_status, loop, handlers, database_health)


def on_loop_policy(database: peewee.Database) -> Callable[[str, Any], bool]:
    """Which RPCs are answered on the server's event loop rather than on a worker thread
    (server.rpc_loop): on SQLite, as each method declares (server.servicer.RUNS); on
    PostgreSQL, none."""
    if not isinstance(database, peewee.SqliteDatabase):
        return _never
    return declared_on_loop(RUNS)


def _never(method: str, request: Any) -> bool:
    return False


async def _start(
    address: str,
    handlers: LoopHandlers,
    health_servicer: health_aio.HealthServicer,
    reuse_port: bool,
    extra_addresses: Sequence[str],
) -> tuple[grpc.aio.Server, int]:
    """The server, listening and started (on the loop it is to run on)."""
    server = grpc.aio.server(
        interceptors=[MetricsInterceptor()],
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
        ],
    )
    server.add_generic_rpc_handlers((handlers,))
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = _listen(server, address)
    for extra in extra_addresses:
        _listen(server, extra)
    await server.start()
    return server, port


def _listen(server: grpc.aio.Server, address: str) -> int:
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpcio raises where it used to answer 0
        raise OSError(f"cannot listen on {address}") from exc
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return port
