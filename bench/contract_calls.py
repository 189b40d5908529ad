"""The requests of `make contract-check`, sent the same way to each service.

A REST call is sent with `http.client` exactly as written (path, query, headers and body
bytes), with the same `Host` header to both services, so that nothing in the request tells
them apart but the port. A gRPC call goes through the service's channel with this checkout's
generated messages; its answer is the status code, the trailing metadata and the response
messages in protobuf text format (exact, and readable in a diff: bytes fields show as text),
with the `google.rpc.Status` details of an error decoded the same way.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import text_format
from google.protobuf.message import Message

# Imported for its side effect: it registers BadRequest, ErrorInfo, ..., so that text format
# expands the status details' Any messages instead of printing their bytes.
from google.rpc import error_details_pb2, status_pb2  # noqa: F401 (registers its types)

from bench.contract_diff import Answer, compared_headers, http_answer
from bench.service import Service

_LOGGER = logging.getLogger(__name__)

TIMEOUT_SECONDS = 120
# The service's default address: sent to both, so an answer that echoes Host matches.
HOST = "127.0.0.1:8080"
STATUS_DETAILS = "grpc-status-details-bin"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


@dataclass
class Side:
    """One running service, as the calls reach it: its ports, and a channel to its gRPC."""

    service: Service
    channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
        self.channel = grpc.insecure_channel(self.service.grpc_target, options=options)

    def close(self) -> None:
        self.channel.close()


@dataclass(frozen=True)
class Rest:
    """One HTTP request: method, target (path and query, sent as is), headers, body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    def describe(self) -> str:
        extra = "".join(f" [{name}: {value}]" for name, value in self.headers)
        body = f" body={self.body.decode(errors='replace')}" if self.body else ""
        return f"REST {self.method} {self.target}{extra}{body}"

    def send(self, side: Side) -> Answer:
        connection = http.client.HTTPConnection(
            "127.0.0.1", side.service.http_port, timeout=TIMEOUT_SECONDS
        )
        try:
            connection.request(
                self.method,
                self.target,
                body=self.body,
                headers={"Host": HOST, **dict(self.headers)},
            )
            response = connection.getresponse()
            return http_answer(response.status, response.getheaders(), response.read())
        except (OSError, http.client.HTTPException) as exc:
            return Answer(f"no answer: {type(exc).__name__}", (), str(exc).encode())
        finally:
            connection.close()


@dataclass(frozen=True)
class Grpc:
    """One RPC: its full method name, request, response type and shape, and the token."""

    method: str  # /package.Service/Method
    request: Message
    response_type: type[Message]
    token: str | None = None
    shape: str = "unary"  # or "server_stream", "bidi" (the request is the one message sent)
    # Applied to each response before it is shown: for a field that moves with the clock.
    normalise: Callable[[Message], None] | None = None

    def describe(self) -> str:
        request = text_format.MessageToString(self.request, as_utf8=True, as_one_line=True)
        auth = "" if self.token is None else " [authorization]"
        return f"gRPC {self.method.rsplit('/', 1)[-1]} {{{request}}}{auth}"

    def _callable(self, channel: grpc.Channel) -> Any:
        serializer = type(self.request).SerializeToString
        kinds = {
            "unary": channel.unary_unary,
            "server_stream": channel.unary_stream,
            "bidi": channel.stream_stream,
        }
        return kinds[self.shape](
            self.method,
            request_serializer=serializer,
            response_deserializer=self.response_type.FromString,
        )

    def send(self, side: Side) -> Answer:
        call = self._callable(side.channel)
        metadata = [] if self.token is None else [("authorization", f"Bearer {self.token}")]
        argument: Any = iter([self.request]) if self.shape == "bidi" else self.request
        received: list[Message] = []
        try:
            if self.shape == "unary":
                response, outcome = call.with_call(
                    argument, metadata=metadata, timeout=TIMEOUT_SECONDS
                )
                received.append(response)
            else:
                outcome = call(argument, metadata=metadata, timeout=TIMEOUT_SECONDS)
                received.extend(outcome)
        except grpc.RpcError as exc:
            outcome = exc
        return self._answer(outcome, received)

    def _answer(self, outcome: Any, received: list[Message]) -> Answer:
        code = outcome.code()
        trailing = [(key, value) for key, value in outcome.trailing_metadata() or ()]
        shown = [(key, value) for key, value in trailing if key != STATUS_DETAILS]
        details = outcome.details()
        if details:
            shown.append(("grpc-message", details))
        parts = []
        for number, message in enumerate(received, 1):
            if self.normalise is not None:
                self.normalise(message)
            parts.append(f"# message {number}\n{_text(message)}")
        parts.extend(_status_details(trailing))
        return Answer(
            f"gRPC {code.name}", compared_headers(_printable(shown)), "\n".join(parts).encode()
        )


def _text(message: Message) -> str:
    return text_format.MessageToString(message, as_utf8=True, print_unknown_fields=True)


def _status_details(trailing: Iterable[tuple[str, Any]]) -> list[str]:
    for key, value in trailing:
        if key == STATUS_DETAILS:
            return [f"# status details\n{_text(status_pb2.Status.FromString(value))}"]
    return []


def _printable(metadata: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [
        (key, value.hex() if isinstance(value, bytes) else str(value)) for key, value in metadata
    ]
