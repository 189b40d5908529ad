"""The gateway's health URLs, for load balancers and orchestrators (not in the legacy API).

- `GET /healthz`: the gateway process answers (liveness). It never looks upstream, so a
  gRPC tier outage does not get every gateway restarted.
- `GET /readyz`: the gateway can serve: the gRPC health service of an upstream answers
  SERVING for MeetingsService (readiness). Round robin picks the upstream, so one healthy
  backend is enough.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import orjson
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.channel import SERVICE_NAME

HEALTHZ = "/healthz"
READYZ = "/readyz"
# Readiness probes usually time out after 1-3 s; answer before they give up.
READY_CHECK_TIMEOUT = 1.5


def _status(status: int, text: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"status": text}),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def healthz(request: web.Request) -> web.Response:
    return _status(200, "ok")


def make_readyz(
    channel: Callable[[], grpc.aio.Channel],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(request: web.Request) -> web.Response:
        stub = health_pb2_grpc.HealthStub(channel())
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=READY_CHECK_TIMEOUT
            )
        except grpc.aio.AioRpcError:
            return _status(503, "upstream unavailable")
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            return _status(503, "upstream not serving")
        return _status(200, "ready")

    return readyz


def add_health_routes(app: web.Application, channel: Callable[[], grpc.aio.Channel]) -> None:
    app.router.add_get(HEALTHZ, healthz)
    app.router.add_get(READYZ, make_readyz(channel))
