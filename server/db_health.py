"""The database behind the health service: a small probe that flips SERVING/NOT_SERVING.

While the database cannot be reached every RPC would fail with UNAVAILABLE, so the server
says NOT_SERVING and load balancers (and the gateway's /readyz) send traffic elsewhere. A
background thread asks the database a trivial question every `interval` seconds and flips the
status back as soon as it answers, with no restart. An RPC that meets an outage flips the
status at once, without waiting for the next probe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import peewee
from grpc_health.v1 import health_pb2

from server import query_deadline
from store.database import connect_checked

log = logging.getLogger("meetings.server")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# The probe's own statement timeout: a database this slow to say "1" is not serving.
PROBE_TIMEOUT = 2.0


def probe(database: peewee.Database) -> bool:
    """Whether the database answers a query on its schema now."""
    db: Any = database  # peewee's methods are untyped
    try:
        deadline = query_deadline.QueryDeadline(PROBE_TIMEOUT)
        try:
            connect_checked(database, lambda: query_deadline.apply(database, deadline))
            db.execute_sql("SELECT version FROM schema_version LIMIT 1").fetchall()
        finally:
            query_deadline.clear(database, deadline)
            if not database.is_closed():
                database.close()
    except Exception as exc:  # any failure at all means "not serving"
        log.debug("database probe failed: %s", exc)
        return False
    return True


class HealthStatus(Protocol):
    """Where the statuses go: the health service (server.app.LoopHealth)."""

    def set(self, service: str, status: health_pb2.HealthCheckResponse.ServingStatus) -> None: ...


class DatabaseHealth:
    """Keeps the health status of `services` in step with the database."""

    def __init__(
        self,
        database: peewee.Database,
        servicer: HealthStatus,
        services: Sequence[str],
        interval: float,
    ) -> None:
        self._db = database
        self._servicer = servicer
        self._services = tuple(services)
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._serving: bool | None = None
        self._thread: threading.Thread | None = None

    @property
    def serving(self) -> bool:
        return bool(self._serving)

    def set_serving(self, serving: bool) -> None:
        with self._lock:
            if serving == self._serving or self._stop.is_set():
                return
            if self._serving is not None:
                if serving:
                    log.warning("the database answers again: serving")
                else:
                    log.warning("the database cannot be reached: not serving")
            self._serving = serving
            for name in self._services:
                self._servicer.set(name, SERVING if serving else NOT_SERVING)

    def report_unavailable(self) -> None:
        """An RPC met an outage: stop serving until the next probe succeeds."""
        if self._interval > 0:
            self.set_serving(False)

    def start(self) -> None:
        self.set_serving(True)
        if self._interval > 0:
            self._thread = threading.Thread(target=self._run, name="db-probe", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + PROBE_TIMEOUT + 1)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.set_serving(probe(self._db))
