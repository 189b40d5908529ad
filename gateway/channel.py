"""The gateway's one gRPC channel: round robin over every upstream, retries before commit."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence

import grpc

from heypeers.meetings.v1 import meetings_service_pb2 as pb

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["MeetingsService"].full_name

# Every MeetingsService RPC is safe to send twice: they only read, and Authenticate mints a
# token without changing anything. gRPC retries only until the call is committed, that is
# until the server sends response headers; the server's interceptor sends them as soon as an
# RPC starts, so an RPC a server began handling is never repeated. What is retried is an
# attempt that no server took up: a connection refused or reset, a server going away.
# Retries are throttled (a token bucket), so a tier that is down is not hit three times over.
SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [
        {
            "name": [{"service": SERVICE_NAME}],
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.05s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
    "retryThrottling": {"maxTokens": 100, "tokenRatio": 0.1},
}

# How the channel tells a hung backend from a busy one (see CHANNEL_OPTIONS).
KEEPALIVE_TIME_MS = 500
PING_TIMEOUT_MS = 1500
CONNECT_TIMEOUT_MS = 1500

CHANNEL_OPTIONS: list[tuple[str, object]] = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    # The policy above is the gateway's decision; a DNS TXT record must not replace it.
    ("grpc.service_config_disable_resolution", 1),
    # Notice a backend that hangs or vanished without closing its connection (a stopped
    # process, a lost node) within about two seconds, instead of at the next request's
    # deadline (or never, for an export stream, which has none): after half a second
    # without incoming data the client pings, and a ping unanswered for 1.5 s closes the
    # connection, failing its calls as UNAVAILABLE (503; retried on another backend when
    # there is one). Pings are answered by the server's HTTP/2 layer, not by its RPC
    # threads: a busy server answers within milliseconds (measured: at most 0.15 s while
    # streaming exports on a loaded machine), and a stream that is receiving data is not
    # pinged at all. The server accepts pings this often (server.app's
    # MIN_CLIENT_PING_INTERVAL_MS). grpcio times a keepalive ping out after the ping
    # timeout (a minute by default), so both are set.
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", PING_TIMEOUT_MS),
    ("grpc.http2.ping_timeout_ms", PING_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    # By default a client stops pinging after two pings without data; keep watching.
    ("grpc.http2.max_pings_without_data", 0),
    # A connection attempt that gets no HTTP/2 handshake (the server's SETTINGS) within
    # this long has failed: a hung process still accepts TCP connections, and the calls
    # waiting for it fail (503) now rather than after the default 20 s.
    ("grpc.min_reconnect_backoff_ms", CONNECT_TIMEOUT_MS),
    # A restarted backend is tried again within seconds, not after the default two minutes.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5 * 1000),
]


class UpstreamError(ValueError):
    """The upstream addresses cannot make one gRPC target."""


_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _split(address: str) -> tuple[str, str]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UpstreamError(f"upstream {address!r} is not HOST:PORT")
    return host, port


def channel_target(upstreams: Sequence[str]) -> str:
    """One gRPC target naming every upstream, so round robin sees them all.

    - one `HOST:PORT` with a host name: `dns:///HOST:PORT`; every address the name resolves
      to is a backend (a Kubernetes headless Service, a Compose service with replicas), and
      the name is resolved again when a connection drops;
    - IP addresses: a static list, `ipv4:A:P,B:P` (or `ipv6:`);
    - `unix:/path` sockets: `unix:/a,/b`;
    - a single full gRPC target (`dns:`, `ipv4:`, ...) is taken as it is.
    """
    if not upstreams:
        raise UpstreamError("no upstream gRPC server given")
    if len(upstreams) == 1 and upstreams[0].startswith(_SCHEMES):
        return upstreams[0]
    if all(u.startswith("unix:") for u in upstreams):
        return "unix:" + ",".join(u.removeprefix("unix:") for u in upstreams)
    if any(u.startswith(_SCHEMES) for u in upstreams):
        raise UpstreamError("several upstreams must all be HOST:PORT, or all unix:/path")
    parsed = [(_split(u), u) for u in upstreams]
    ips = [_ip(host) for (host, _), _ in parsed]
    if len(upstreams) == 1 and ips[0] is None:
        return f"dns:///{upstreams[0]}"
    if any(ip is None for ip in ips):
        raise UpstreamError(
            "several upstreams must be IP addresses; to balance over a host name, give that "
            "one name (every address it resolves to is used)"
        )
    versions = {ip.version for ip in ips if ip is not None}
    if versions == {4}:
        return "ipv4:" + ",".join(upstreams)
    if versions == {6}:
        return "ipv6:" + ",".join(f"[{host.strip('[]')}]:{port}" for (host, port), _ in parsed)
    raise UpstreamError("upstreams cannot mix IPv4 and IPv6 addresses")


def open_channel(upstreams: Sequence[str]) -> grpc.aio.Channel:
    """An asyncio channel that balances over `upstreams` (it connects lazily)."""
    return grpc.aio.insecure_channel(channel_target(upstreams), options=CHANNEL_OPTIONS)
