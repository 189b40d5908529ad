"""The gateway's metrics (Prometheus, at GET /metrics) and its JSON access log.

A middleware counts every request by route template and status, times it, and keeps the
gauge of streamed responses in progress. The access log is an aiohttp access logger (it
runs once the response has been sent, so its size and duration are complete): one JSON
line per request on the `meetings.access` logger. A line never holds a header, a query
string or a body, so neither a bearer token nor an access key (which authenticate accepts
in the query) can reach the logs.

Metrics go to prometheus_client's default registry. Under `meetings serve` the gRPC server
runs in the same process, so /metrics also shows its metrics (server.metrics). Under
`--workers N` every worker writes its values to the group's directory (prometheus-client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR, set by cli.workers), and /metrics shows the sum
over every process of the group, whichever gateway the scrape reaches.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import IO

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from gateway.calls import REQUEST_ID
from gateway.handler import Handler, path_id

METRICS_PATH = "/metrics"
ACCESS_LOGGER = "meetings.access"
# Probes and scrapes arrive every few seconds; their lines are logged at DEBUG only.
QUIET_ROUTES = frozenset({METRICS_PATH, "/healthz", "/readyz"})
# prometheus-client's own variable for its multiprocess mode (its value modules read it too):
# cli.workers sets it for every worker of a group. Named here rather than imported from the
# server's settings, so the gateway loads none of the server's or the store's code.
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# The route label of requests that matched no route: paths are not labels (unbounded).
UNMATCHED_ROUTE = "unmatched"
# nginx's "client closed request": the client went away before the answer was complete.
CLIENT_CLOSED_REQUEST = 499

# Exports stream for as long as they need: the buckets reach 5 minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "meetings_http_requests_total",
    "HTTP requests answered by the gateway, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "meetings_http_request_duration_seconds",
    "Time from receiving an HTTP request to the end of its handler (a streamed body included).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_ACTIVE_STREAMS = Gauge(
    "meetings_http_active_streams",
    "Streamed HTTP responses (unpaginated exports) being written.",
    ["route"],
    # With several workers: the sum over the processes alive.
    multiprocess_mode="livesum",
)

_OBSERVING = web.RequestKey("observability_in_handler", bool)
_STREAMING = web.RequestKey("observability_streaming", bool)

# The runner's access_log: web.AppRunner(app, access_log_class=JsonAccessLogger,
# access_log=ACCESS_LOG).
ACCESS_LOG = logging.getLogger(ACCESS_LOGGER)
# Marks the handler configure_access_log installed.
_JSON_LINES = "meetings_json_lines"


def _match_info(request: web.BaseRequest) -> web.UrlMappingMatchInfo | None:
    """The request's routing, or None when it was never routed: aiohttp's parser refused it
    (a NUL in a header, a header over the limit, a broken request line), and then both a
    BaseRequest (no attribute) and a Request (an AssertionError) have none."""
    try:
        return getattr(request, "match_info", None)
    except AssertionError:
        return None


def route_label(request: web.BaseRequest) -> str:
    """The route template that matched (never the raw path), or "unmatched"."""
    match_info = _match_info(request)
    resource = match_info.route.resource if match_info is not None else None
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


def _organization_id(request: web.BaseRequest) -> int | None:
    """The URL's organization id when it is one an organization can have (1 to int64's
    maximum, as the gateway takes them); None otherwise, so a line never fails to encode."""
    match_info = _match_info(request)
    value = match_info.get("organization_id") if match_info is not None else None
    return path_id(value) or None if value else None


def access_record(
    request: web.BaseRequest, status: int, duration: float, sent: int
) -> dict[str, object]:
    """The fields of one access-log line."""
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": request.method,
        "route": route_label(request),
        "status": status,
        "duration_ms": round(duration * 1000, 3),
        "request_id": request.get(REQUEST_ID),
        "organization_id": _organization_id(request),
        "bytes": sent,
    }


class JsonAccessLogger(AbstractAccessLogger):
    """One JSON line per request; probes and scrapes at DEBUG, everything else at INFO.

    Use it as the runner's access_log_class with the `meetings.access` logger. `bytes` is
    what was sent for the response, status line and headers included (as aiohttp's %b).
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        record = access_record(request, response.status, time, response.body_length)
        level = logging.DEBUG if record["route"] in QUIET_ROUTES else logging.INFO
        if self.logger.isEnabledFor(level):
            self.logger.log(level, orjson.dumps(record).decode(), extra={"access": record})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


@web.middleware
async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts and times every request; the outermost middleware, to see final statuses."""
    started = time.perf_counter()
    request[_OBSERVING] = True
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        status = CLIENT_CLOSED_REQUEST
        raise
    finally:
        duration = time.perf_counter() - started
        request[_OBSERVING] = False
        route = route_label(request)
        if request.get(_STREAMING):
            HTTP_ACTIVE_STREAMS.labels(route).dec()
        HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(duration)


async def count_streams(request: web.Request, response: web.StreamResponse) -> None:
    """A response prepared inside its handler is a streamed one (a plain Response is
    prepared after the middleware returns); the middleware decrements it at the end."""
    if request.get(_OBSERVING) and not isinstance(response, web.Response):
        request[_STREAMING] = True
        HTTP_ACTIVE_STREAMS.labels(route_label(request)).inc()


def exposition() -> bytes:
    """The metrics page: this process's registry, or, in a group of workers, every worker's."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if not directory:
        return generate_latest(REGISTRY)
    # A registry of its own per scrape, as prometheus-client's multiprocess mode asks: the
    # collector reads every process's files when collected.
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def metrics(request: web.Request) -> web.Response:
    # The exposition format's version travels in the content type: kept exactly.
    return web.Response(
        body=exposition(),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def add_observability(app: web.Application) -> None:
    """Observe every request of `app` and serve GET /metrics; call before the app starts."""
    # First in the list is outermost: it sees the statuses the other middlewares settle on.
    app.middlewares.insert(0, observe_requests)
    app.on_response_prepare.append(count_streams)
    app.router.add_get(METRICS_PATH, metrics)


def configure_access_log(stream: IO[str] | None = None) -> logging.Handler:
    """Write access lines as bare JSON, one per line, to `stream` (stderr by default).

    For the command line: the root logger's format prefixes every message with a time and
    a level, which would make the lines no longer JSON. Called again, it changes nothing.
    """
    for existing in ACCESS_LOG.handlers:
        if getattr(existing, _JSON_LINES, False):
            return existing
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _JSON_LINES, True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False
    return handler
