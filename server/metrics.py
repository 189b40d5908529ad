"""Prometheus metrics of the gRPC tier: RPCs by method and code, latency, active streams,
exported rows, and the database pool.

The RPC metrics use the names of go-grpc-prometheus (grpc_server_started_total,
grpc_server_handled_total, grpc_server_handling_seconds) so existing gRPC dashboards work.
Everything goes to prometheus_client's default registry: under `meetings serve` the gateway's
GET /metrics shows it; a gRPC tier in a process of its own writes it to its group's directory
(prometheus-client's multiprocess mode, see cli.workers), where the gateways read it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
import peewee
from playhouse.pool import PooledDatabase
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server.method_handlers import Behavior, rewrapped

# Exports stream for as long as they need: the buckets reach 5 minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_RPC_LABELS = ["grpc_type", "grpc_service", "grpc_method"]

RPCS_STARTED = Counter("grpc_server_started_total", "RPCs started on the server.", _RPC_LABELS)
RPCS_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code.",
    [*_RPC_LABELS, "grpc_code"],
)
RPC_LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its status (the whole stream, for streaming RPCs).",
    _RPC_LABELS,
    buckets=LATENCY_BUCKETS,
)
ACTIVE_STREAMS = Gauge(
    "meetings_grpc_active_streams",
    "Streaming RPCs (server or bidirectional streams) in progress.",
    ["grpc_service", "grpc_method"],
    # With several workers: the sum over the processes alive.
    multiprocess_mode="livesum",
)
EXPORTED_ROWS = Counter(
    "meetings_exported_rows_total",
    "Meeting rows sent by the export RPCs (to gRPC callers and the REST gateway alike).",
    ["grpc_method"],
)


def count_exported_rows(method: str, rows: int) -> None:
    """Add `rows` sent by an export RPC (`method`: ExportMeetings or StreamExportMeetings).

    For the export code: call it once per response or batch, not per row.
    """
    if rows > 0:
        EXPORTED_ROWS.labels(method).inc(rows)


def split_method(full_method: str) -> tuple[str, str]:
    """`/package.Service/Method` as (package.Service, Method)."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


def _code_of(context: grpc.ServicerContext, failure: BaseException | None) -> grpc.StatusCode:
    # An abort records its code on the context before raising; any other exception is
    # answered UNKNOWN by grpcio.
    code = getattr(context, "code", lambda: None)()
    if isinstance(code, grpc.StatusCode):
        return code
    return grpc.StatusCode.OK if failure is None else grpc.StatusCode.UNKNOWN


class _Observed:
    """One RPC being measured."""

    def __init__(self, kind: str, full_method: str) -> None:
        self.labels = (kind, *split_method(full_method))
        self.started = time.perf_counter()
        RPCS_STARTED.labels(*self.labels).inc()

    def done(self, code: grpc.StatusCode) -> None:
        RPCS_HANDLED.labels(*self.labels, code.name).inc()
        RPC_LATENCY.labels(*self.labels).observe(time.perf_counter() - self.started)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Measures every RPC of every service (health and reflection included).

    An interceptor of the asyncio server (server.app), so it sees each RPC's status as the
    caller does: MeetingsInterceptor turns every failure into an abort with a code.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:  # an unknown method: grpcio answers UNIMPLEMENTED itself
            return None
        method: str = details.method

        def measured(kind: str, behavior: Behavior) -> Behavior:
            if inspect.isasyncgenfunction(behavior):
                return self._stream(kind, method, behavior)
            return self._call(kind, method, behavior)

        return rewrapped(handler, measured)

    @staticmethod
    def _call(
        kind: str, method: str, behavior: Callable[[Any, Any], Awaitable[Any]]
    ) -> Callable[[Any, Any], Awaitable[Any]]:
        """A handler that returns its answer, or writes its stream with context.write."""
        streams = kind != "unary" and kind != "client_stream"

        async def handle(request: Any, context: Any) -> Any:
            observed = _Observed(kind, method)
            active = ACTIVE_STREAMS.labels(*observed.labels[1:]) if streams else None
            if active is not None:
                active.inc()
            try:
                response = await behavior(request, context)
            except asyncio.CancelledError:
                observed.done(grpc.StatusCode.CANCELLED)
                raise
            except BaseException as exc:
                observed.done(_code_of(context, exc))
                raise
            finally:
                if active is not None:
                    active.dec()
            observed.done(_code_of(context, None))
            return response

        return handle

    @staticmethod
    def _stream(
        kind: str, method: str, behavior: Callable[[Any, Any], AsyncIterator[Any]]
    ) -> Callable[[Any, Any], AsyncIterator[Any]]:
        async def handle(request: Any, context: Any) -> AsyncIterator[Any]:
            observed = _Observed(kind, method)
            active = ACTIVE_STREAMS.labels(*observed.labels[1:])
            active.inc()
            try:
                async for message in behavior(request, context):
                    yield message
            except (GeneratorExit, asyncio.CancelledError):
                # The client cancelled or the deadline passed.
                observed.done(grpc.StatusCode.CANCELLED)
                raise
            except BaseException as exc:
                observed.done(_code_of(context, exc))
                raise
            else:
                observed.done(_code_of(context, None))
            finally:
                active.dec()

        return handle


# --- the database pool -----------------------------------------------------------------------

# Pools being watched; weak, so a database closed and dropped (as in tests) is forgotten.
_POOLS: weakref.WeakSet[PooledDatabase] = weakref.WeakSet()
_POOL_CONNECTIONS = "meetings_db_pool_connections"
_POOL_CONNECTIONS_HELP = "Pooled database connections, by state (in_use: lent to an RPC)."
_POOL_LIMIT = "meetings_db_pool_max_connections"
_POOL_LIMIT_HELP = "The most connections the pools may open (0: no pool)."
# How often a worker of a group copies its pools' use into the group's metric files.
POOL_PUBLISH_SECONDS = 1.0
_publisher_lock = threading.Lock()
_publisher: threading.Thread | None = None


def watch_database_pool(database: peewee.Database) -> None:
    """Report `database`'s pool at scrape time; a database without a pool is ignored.

    In a group of workers (prometheus-client's multiprocess mode, see cli.workers), a scrape
    reads the group's metric files, not this process's collectors: a thread then copies the
    pools' use into gauges of those files every POOL_PUBLISH_SECONDS.
    """
    if isinstance(database, PooledDatabase):
        _POOLS.add(database)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            _start_publisher()


def _pool_use() -> tuple[int, int, int]:
    """Connections lent, idle, and the most the pools may open, over this process's pools."""
    in_use = idle = limit = 0
    for pool in list(_POOLS):
        # peewee keeps no public counters; these are the pool's own bookkeeping.
        in_use += len(pool._in_use)
        idle += len(pool._connections)
        limit += pool._max_connections or 0
    return in_use, idle, limit


class DatabasePoolCollector(Collector):
    """Pool use read when Prometheus scrapes, summed over the pools of this process."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use, idle, limit = _pool_use()
        connections = GaugeMetricFamily(_POOL_CONNECTIONS, _POOL_CONNECTIONS_HELP, labels=["state"])
        connections.add_metric(["in_use"], in_use)
        connections.add_metric(["idle"], idle)
        yield connections
        yield GaugeMetricFamily(_POOL_LIMIT, _POOL_LIMIT_HELP, value=limit)


def _start_publisher() -> None:
    global _publisher
    with _publisher_lock:
        if _publisher is not None:
            return
        # In no registry (the collector above has the names in this process's); written to
        # the group's files, where the gateways' scrapes sum them over the live workers.
        connections = Gauge(
            _POOL_CONNECTIONS,
            _POOL_CONNECTIONS_HELP,
            ["state"],
            registry=None,
            multiprocess_mode="livesum",
        )
        limit = Gauge(_POOL_LIMIT, _POOL_LIMIT_HELP, registry=None, multiprocess_mode="livesum")

        def publish() -> None:
            while True:
                in_use, idle, most = _pool_use()
                connections.labels("in_use").set(in_use)
                connections.labels("idle").set(idle)
                limit.set(most)
                time.sleep(POOL_PUBLISH_SECONDS)

        _publisher = threading.Thread(target=publish, name="pool-metrics", daemon=True)
        _publisher.start()


REGISTRY.register(DatabasePoolCollector())
