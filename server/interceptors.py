"""The one interceptor of MeetingsService: request id, database scope and deadline, brute-force
protection, auth, error mapping."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import peewee

from server import context as request_context
from server import query_deadline
from server.auth import Authenticator
from server.errors import TooManyAttempts, Unauthenticated, abort, status_for
from server.method_handlers import Behavior, rewrapped
from server.peers import FORWARDED_FOR_KEY, TrustedProxies
from server.throttle import FailureThrottle
from store.database import connect_checked
from store.errors import DatabaseUnavailable

log = logging.getLogger("meetings.server")

SERVICE_PREFIX = "/heypeers.meetings.v1.MeetingsService/"
AUTHENTICATE = SERVICE_PREFIX + "Authenticate"
LIST_UPCOMING_MEETINGS = SERVICE_PREFIX + "ListUpcomingMeetings"
LIST_MEMBER_UPCOMING_MEETINGS = SERVICE_PREFIX + "ListMemberUpcomingMeetings"
EXPORT_MEETINGS = SERVICE_PREFIX + "ExportMeetings"
STREAM_EXPORT_MEETINGS = SERVICE_PREFIX + "StreamExportMeetings"
# Methods a caller reaches without a token.
PUBLIC_METHODS = frozenset({AUTHENTICATE})
REQUEST_ID_KEY = "x-request-id"
TOO_MANY_ATTEMPTS = "Too many failed attempts; try again in {seconds} seconds"
# grpcio reports "no deadline" as a remaining time of centuries.
_NO_DEADLINE = 10**8
DEFAULT_UNARY_TIMEOUT = 30.0


def _metadata_value(ctx: grpc.ServicerContext, key: str) -> str | None:
    for item_key, value in ctx.invocation_metadata() or ():
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else value
    return None


def _action(method: str) -> str:
    return "calling " + method.removeprefix(SERVICE_PREFIX)


def _caller_timeout(ctx: grpc.ServicerContext) -> float | None:
    remaining = ctx.time_remaining()
    return None if remaining is None or remaining > _NO_DEADLINE else float(remaining)


class MeetingsInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every MeetingsService handler; other services (health, reflection) pass through.

    - Unary RPCs whose caller set no deadline get `unary_timeout`; streams keep the caller's
      deadline or none. The deadline bounds the RPC's database queries (server.query_deadline).
    - Failed Authenticate calls are counted per client (server.peers); a client past its
      limit is answered RESOURCE_EXHAUSTED with a RetryInfo, before its key is looked at.
    """

    def __init__(
        self,
        database: peewee.Database,
        authenticator: Authenticator,
        *,
        throttle: FailureThrottle | None = None,
        proxies: TrustedProxies | None = None,
        unary_timeout: float = DEFAULT_UNARY_TIMEOUT,
        on_database_unavailable: Callable[[], None] | None = None,
    ) -> None:
        self._db = database
        self._auth = authenticator
        self._throttle = throttle if throttle is not None else FailureThrottle(0, 0)
        self._proxies = proxies if proxies is not None else TrustedProxies(())
        self._unary_timeout = unary_timeout
        self._on_unavailable = on_database_unavailable

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = continuation(details)
        method: str = details.method
        if handler is None or not method.startswith(SERVICE_PREFIX):
            return handler

        def wrap(kind: str, behavior: Behavior) -> Behavior:
            if kind == "unary":
                return self._wrap_unary(method, behavior)
            if kind == "server_stream":
                return self._wrap_stream(method, behavior)
            return behavior  # MeetingsService has no client or bidirectional streams

        return rewrapped(handler, wrap)

    def _client(self, ctx: grpc.ServicerContext) -> str:
        return self._proxies.client(ctx.peer(), _metadata_value(ctx, FORWARDED_FOR_KEY))

    def _begin(
        self,
        method: str,
        request: Any,
        ctx: grpc.ServicerContext,
        deadline: query_deadline.QueryDeadline,
    ) -> None:
        """Set the request id, open the connection, and authorize (raises on failure)."""
        rid = _metadata_value(ctx, REQUEST_ID_KEY) or uuid.uuid4().hex
        request_context.request_id.set(rid)
        request_context.organization.set(None)
        ctx.send_initial_metadata(((REQUEST_ID_KEY, rid),))
        if method == AUTHENTICATE:
            wait = self._throttle.retry_after(self._client(ctx))
            if wait is not None:
                seconds = max(1, round(wait))
                raise TooManyAttempts(TOO_MANY_ATTEMPTS.format(seconds=seconds), wait)
        ctx.add_callback(deadline.cancel)
        try:
            connect_checked(self._db, lambda: query_deadline.apply(self._db, deadline))
        except peewee.DatabaseError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if method not in PUBLIC_METHODS:
            org = self._auth.authorize(
                _metadata_value(ctx, "authorization"), int(request.organization_id)
            )
            request_context.organization.set(org)

    def _end(self, deadline: query_deadline.QueryDeadline) -> None:
        query_deadline.clear(self._db, deadline)
        if not self._db.is_closed():
            self._db.close()

    def _fail(self, method: str, failure: Exception, ctx: grpc.ServicerContext) -> None:
        if isinstance(failure, DatabaseUnavailable) and self._on_unavailable is not None:
            self._on_unavailable()
        if method == AUTHENTICATE and isinstance(failure, Unauthenticated):
            self._throttle.failed(self._client(ctx))
        request_id = request_context.request_id.get()
        abort(ctx, status_for(failure, request_id=request_id, action=_action(method)))

    def _wrap_unary(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, ctx: grpc.ServicerContext) -> Any:
            timeout = _caller_timeout(ctx)
            deadline = query_deadline.QueryDeadline(
                self._unary_timeout if timeout is None else timeout
            )
            try:
                self._begin(method, request, ctx, deadline)
                return behavior(request, ctx)
            except Exception as exc:  # every failure leaves as a status, never a trace
                failure = exc
            finally:
                self._end(deadline)
            self._fail(method, failure, ctx)
            return None  # pragma: no cover - abort raises

        return handle

    def _wrap_stream(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]]
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def handle(request: Any, ctx: grpc.ServicerContext) -> Iterator[Any]:
            deadline = query_deadline.QueryDeadline(_caller_timeout(ctx))
            try:
                self._begin(method, request, ctx, deadline)
                yield from behavior(request, ctx)
                return
            except Exception as exc:
                failure = exc
            finally:
                self._end(deadline)
            self._fail(method, failure, ctx)

        return handle
