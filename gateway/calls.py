"""What a legacy endpoint needs to call the service: the stub, metadata, request id, deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc

REQUEST_ID = web.RequestKey("request_id", str)


@dataclass(frozen=True)
class Call:
    """One HTTP request on its way to the service."""

    http: web.Request
    stub: pb_grpc.MeetingsServiceStub
    metadata: tuple[tuple[str, str], ...]
    request_id: str
    # The gateway's configured deadline for unary calls.
    timeout: float | None
    # The caller's own deadline (X-Request-Timeout / Grpc-Timeout), for every call.
    deadline: float | None = None

    async def unary(self, rpc_name: str, message: Any) -> Any:
        """Call a unary RPC; grpc.aio.AioRpcError propagates to the error path."""
        method = getattr(self.stub, rpc_name)
        timeout = self.timeout if self.deadline is None else self.deadline
        return await method(message, metadata=self.metadata, timeout=timeout)

    def stream(self, rpc_name: str, message: Any) -> Any:
        """Start a server-streaming RPC: exports run as long as they need, unless the caller
        set a deadline."""
        method = getattr(self.stub, rpc_name)
        return method(message, metadata=self.metadata, timeout=self.deadline)
