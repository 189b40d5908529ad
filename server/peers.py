"""Who is calling: the client address of an RPC, through trusted proxies such as the gateway.

A gRPC call's peer is the process that opened the connection. For calls that come through
the REST gateway, that is the gateway; the gateway names the HTTP client in `x-forwarded-for`
metadata (the incoming X-Forwarded-For chain, then the address it saw). The chain is read
from the right, past every hop whose address is trusted, so a client can put anything it likes
in its own header without being able to pass for another client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

FORWARDED_FOR_KEY = "x-forwarded-for"
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def peer_host(peer: str) -> str:
    """The host of a gRPC peer string (`ipv4:1.2.3.4:5`, `ipv6:[::1]:5`, `unix:/path`)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or rest
    if kind == "ipv6":
        host = rest.rpartition(":")[0] if rest.startswith("[") else rest
        return host.strip("[]")
    if kind in ("unix", "unix-abstract"):
        return "unix"
    return peer


class TrustedProxies:
    """Addresses whose word on the client's address is taken."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._unix = False
        self._networks: list[IpNetwork] = []
        for network in networks:
            if network == "unix":
                self._unix = True
            else:
                self._networks.append(ipaddress.ip_network(network, strict=False))

    def trusts(self, host: str) -> bool:
        if host == "unix":
            return self._unix
        address = _address(host)
        return address is not None and any(address in net for net in self._networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The address that stands for the client of a call from `peer`.

        The hops are the forwarded chain followed by the peer itself; the client is the
        right-most hop that is not trusted, or the left-most hop when every one is.
        """
        hops: list[str] = []
        if forwarded_for:
            hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        hops.append(peer_host(peer))
        return _rightmost_untrusted(hops, self)


def _rightmost_untrusted(hops: Sequence[str], trusted: TrustedProxies) -> str:
    for index in range(len(hops) - 1, -1, -1):
        hop = hops[index]
        if not trusted.trusts(hop):
            # Anything that is not an address (a spoofed word) is kept as it is, but only
            # ever reached through hops that vouched for it.
            address = _address(hop)
            return str(address) if address is not None else hop[:64]
    first = _address(hops[0])
    return str(first) if first is not None else hops[0][:64]


def _address(host: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
