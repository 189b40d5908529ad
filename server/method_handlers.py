"""A method handler with its behaviour replaced and its serializers kept: how an interceptor
(or the asyncio bridge) wraps what a service does, for each of gRPC's four kinds of RPC."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:  # grpc-stubs' generics, not subscriptable at run time
    MethodHandler = grpc.RpcMethodHandler[Any, Any]

Behavior = Callable[..., Any]

# The kind of RPC (go-grpc-prometheus's grpc_type), the handler's attribute holding its
# behaviour, and grpcio's constructor of a handler of that kind.
KINDS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("unary", "unary_unary", grpc.unary_unary_rpc_method_handler),
    ("server_stream", "unary_stream", grpc.unary_stream_rpc_method_handler),
    ("client_stream", "stream_unary", grpc.stream_unary_rpc_method_handler),
    ("bidi_stream", "stream_stream", grpc.stream_stream_rpc_method_handler),
)


def rewrapped(handler: MethodHandler, wrap: Callable[[str, Behavior], Behavior]) -> MethodHandler:
    """`handler` whose behaviour is `wrap(kind, behaviour)`, with the same serializers."""
    for kind, attribute, make in KINDS:
        behavior = getattr(handler, attribute)
        if behavior is not None:
            return make(  # type: ignore[no-any-return]
                wrap(kind, behavior),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler
