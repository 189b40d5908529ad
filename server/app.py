"""Builds the gRPC server: the servicer behind its interceptor, health and reflection."""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass

import grpc
import peewee
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server.auth import Authenticator
from server.config import Settings, resolve_jwt_secret
from server.interceptors import MeetingsInterceptor
from server.servicer import MeetingsServicer

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["MeetingsService"].full_name
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer

    def stop(self, grace: float | None) -> None:
        """Refuse new RPCs, let those in flight finish within `grace` seconds, then stop."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def create_server(address: str, settings: Settings, database: peewee.Database) -> RunningServer:
    """A started gRPC server on `address` (port 0 picks a free port)."""
    authenticator = Authenticator(resolve_jwt_secret(settings), settings.token_ttl, settings.clock)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="rpc"),
        interceptors=[MeetingsInterceptor(database, authenticator)],
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ],
    )
    pb_grpc.add_MeetingsServiceServicer_to_server(
        MeetingsServicer(authenticator, settings.clock), server
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer)
