"""The one interceptor of MeetingsService: request id, database scope, auth, error mapping."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import peewee

from server import context as request_context
from server.auth import Authenticator
from server.errors import abort, status_for
from store.errors import DatabaseUnavailable

log = logging.getLogger("meetings.server")

SERVICE_PREFIX = "/heypeers.meetings.v1.MeetingsService/"
# Methods a caller reaches without a token.
PUBLIC_METHODS = frozenset({SERVICE_PREFIX + "Authenticate"})
REQUEST_ID_KEY = "x-request-id"


def _metadata_value(ctx: grpc.ServicerContext, key: str) -> str | None:
    for item_key, value in ctx.invocation_metadata() or ():
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else value
    return None


def _action(method: str) -> str:
    return "calling " + method.removeprefix(SERVICE_PREFIX)


class MeetingsInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every MeetingsService handler; other services (health, reflection) pass through."""

    def __init__(self, database: peewee.Database, authenticator: Authenticator) -> None:
        self._db = database
        self._auth = authenticator

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = continuation(details)
        method: str = details.method
        if handler is None or not method.startswith(SERVICE_PREFIX):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _begin(self, method: str, request: Any, ctx: grpc.ServicerContext) -> None:
        """Set the request id, open the connection, and authorize (raises on failure)."""
        rid = _metadata_value(ctx, REQUEST_ID_KEY) or uuid.uuid4().hex
        request_context.request_id.set(rid)
        request_context.organization.set(None)
        ctx.send_initial_metadata(((REQUEST_ID_KEY, rid),))
        try:
            self._db.connect(reuse_if_open=True)
        except peewee.DatabaseError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if method not in PUBLIC_METHODS:
            org = self._auth.authorize(
                _metadata_value(ctx, "authorization"), int(request.organization_id)
            )
            request_context.organization.set(org)

    def _end(self) -> None:
        if not self._db.is_closed():
            self._db.close()

    def _wrap_unary(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, ctx: grpc.ServicerContext) -> Any:
            try:
                self._begin(method, request, ctx)
                return behavior(request, ctx)
            except Exception as exc:  # every failure leaves as a status, never a trace
                failure = exc
            finally:
                self._end()
            abort(
                ctx,
                status_for(
                    failure, request_id=request_context.request_id.get(), action=_action(method)
                ),
            )
            return None  # pragma: no cover - abort raises

        return handle

    def _wrap_stream(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]]
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def handle(request: Any, ctx: grpc.ServicerContext) -> Iterator[Any]:
            try:
                self._begin(method, request, ctx)
                yield from behavior(request, ctx)
                return
            except Exception as exc:
                failure = exc
            finally:
                self._end()
            abort(
                ctx,
                status_for(
                    failure, request_id=request_context.request_id.get(), action=_action(method)
                ),
            )

        return handle
