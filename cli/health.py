"""`meetings health`: a probe for container health checks (exit 0 healthy, 1 not).

- gRPC: the standard health service (`grpc.health.v1.Health/Check`) for MeetingsService,
  as `grpc_health_probe` does;
- HTTP: the gateway's `/healthz` (the process answers), or `/readyz` with `--ready` (it can
  reach a serving gRPC backend).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cli.process import reachable_host, split_address
from server.app import SERVICE_NAME


@dataclass(frozen=True)
class ProbeResult:
    target: str
    listening: bool
    healthy: bool
    detail: str


def _listening(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def probe_grpc(address: str, timeout: float) -> ProbeResult:
    host, port = split_address(address)
    host = reachable_host(host)
    target = f"{host}:{port}"
    if not _listening(host, port, timeout):
        return ProbeResult(f"grpc {target}", False, False, "not listening")
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=timeout
            )
        except grpc.RpcError as exc:
            return ProbeResult(f"grpc {target}", True, False, exc.code().name)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return ProbeResult(
        f"grpc {target}", True, reply.status == health_pb2.HealthCheckResponse.SERVING, status
    )


def probe_http(address: str, timeout: float, ready: bool) -> ProbeResult:
    host, port = split_address(address)
    host = reachable_host(host)
    url = f"http://{host}:{port}{'/readyz' if ready else '/healthz'}"
    if not _listening(host, port, timeout):
        return ProbeResult(f"http {url}", False, False, "not listening")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except OSError as exc:
        return ProbeResult(f"http {url}", True, False, type(exc).__name__)
    try:
        detail = str(json.loads(body).get("status", status))
    except (ValueError, AttributeError):
        detail = str(status)
    return ProbeResult(f"http {url}", True, status == 200, detail)


def run_probes(
    grpc_address: str | None,
    http_address: str | None,
    *,
    only_listening: bool,
    ready: bool,
    timeout: float,
) -> tuple[bool, list[ProbeResult]]:
    """Probe the given addresses; healthy when every probe passed.

    With `only_listening`, an address nobody listens on is skipped (at least one must
    answer): so one image-wide health check fits `serve`, `grpc-server` and `gateway`.
    """
    results = []
    if grpc_address:
        results.append(probe_grpc(grpc_address, timeout))
    if http_address:
        results.append(probe_http(http_address, timeout, ready))
    judged = [r for r in results if r.listening] if only_listening else results
    return bool(judged) and all(r.healthy for r in judged), results
