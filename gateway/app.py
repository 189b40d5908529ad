"""The aiohttp application: one handler per annotated route, a request id on every request."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.calls import REQUEST_ID
from gateway.channel import channel_target, open_channel
from gateway.docs import add_docs_routes
from gateway.errors import error_response, http_exception_response
from gateway.export_page import add_export_page_routes
from gateway.handler import Handler, make_handler
from gateway.health import add_health_routes
from gateway.home import add_home_route
from gateway.limits import GatewayLimits
from gateway.observability import add_observability
from gateway.openapi import add_openapi_routes
from gateway.routes import service_routes
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc

log = logging.getLogger("meetings.gateway")

REQUEST_ID_HEADER = "X-Request-Id"
CHANNEL = web.AppKey("channel", grpc.aio.Channel)
STUB = web.AppKey("stub", pb_grpc.MeetingsServiceStub)


def _valid_request_id(value: str | None) -> bool:
    return (
        bool(value)
        and len(value or "") <= 128
        and (value or "").isascii()
        and all(c.isalnum() or c in "-_.:" for c in value or "")
    )


def assign_request_id(request: web.Request) -> None:
    """The caller's X-Request-Id when it is a valid one, else a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    request[REQUEST_ID] = incoming if incoming and _valid_request_id(incoming) else uuid.uuid4().hex


def make_front_middleware(limits: GatewayLimits) -> Middleware:
    """Every request's way in and out, in one layer: its id, the URL and body limits, and
    the one place an exception becomes an answer, in the legacy shape {"error": ...}."""

    @web.middleware
    async def front(request: web.Request, handler: Handler) -> web.StreamResponse:
        assign_request_id(request)
        refused = limits.refusal(request)
        if refused is not None:
            return refused
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            # A chunked body read past the limit: aiohttp's text names sizes its own way.
            return limits.body_too_large()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise  # not an error (a redirect, a 304): aiohttp answers it as it is
            # aiohttp's own 404/405 answers (405 keeps its Allow header), in the legacy shape.
            return http_exception_response(exc)
        except Exception:
            request_id = request.get(REQUEST_ID)
            log.exception("unexpected gateway error request_id=%s", request_id)
            return error_response(500, f"Unexpected error (request id {request_id})")

    return front


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, streamed ones included, carries the request's id."""
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id


def create_app(upstream: str | Sequence[str], *, timeout: float | None = 30.0) -> web.Application:
    """The gateway for the gRPC service at `upstream`: one address (host:port) or several.

    Requests are balanced over every upstream (round robin) on one channel; see
    gateway.channel for the target rules and the retry policy.
    """
    upstreams = (upstream,) if isinstance(upstream, str) else tuple(upstream)
    channel_target(upstreams)  # a bad address fails here, not at the first request
    limits = GatewayLimits.from_env()
    app = web.Application(
        middlewares=[make_front_middleware(limits)],
        client_max_size=limits.max_body_bytes,
        handler_args=limits.handler_args(),
    )
    app.on_response_prepare.append(echo_request_id)

    async def channel_ctx(app: web.Application) -> AsyncIterator[None]:
        channel = open_channel(upstreams)
        app[CHANNEL] = channel
        app[STUB] = pb_grpc.MeetingsServiceStub(channel)
        yield
        await channel.close(grace=None)

    app.cleanup_ctx.append(channel_ctx)

    def stub() -> Any:
        return app[STUB]

    for route in service_routes():
        app.router.add_route(route.http_method, route.template, make_handler(route, stub, timeout))
    add_home_route(app)
    add_health_routes(app, lambda: app[CHANNEL])
    add_openapi_routes(app)
    add_docs_routes(app)
    add_export_page_routes(app)
    add_observability(app)
    return app
