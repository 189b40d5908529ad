"""What a legacy endpoint needs to call the service: the stub, metadata and request id."""

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
    timeout: float | None

    async def unary(self, rpc_name: str, message: Any) -> Any:
        """Call a unary RPC; grpc.aio.AioRpcError propagates to the error path."""
        method = getattr(self.stub, rpc_name)
        return await method(message, metadata=self.metadata, timeout=self.timeout)

    def stream(self, rpc_name: str, message: Any) -> Any:
        """Start a server-streaming RPC (no deadline: exports run as long as they need)."""
        method = getattr(self.stub, rpc_name)
        return method(message, metadata=self.metadata)
