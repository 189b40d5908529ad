"""Clients of the benchmark that sample rather than walk or saturate, each run as a process of
its own (`python -m bench.samplers KIND ...`), printing one JSON object:

- `pages`: pages of one export query out of order, as a dashboard or a partner that jumps
  asks for them: the first page, the middle one, the last one and one past the end, each
  `repeats` times, shuffled, on one keep-alive connection. The median counts the first,
  middle and last pages.
- `poisson`: the upcoming feed under open-loop load: requests arrive with exponential gaps
  (a Poisson process at `rate` a second), each sent on whichever of `connections` keep-alive
  connections is free, and its latency counts from its arrival, so a request that waited
  for a connection counts its wait (no coordinated omission). `hey -q` paces each connection
  in lockstep instead, and so sends bursts of as many requests as it has connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from bench.clients import _connection, percentile


def sample_pages(base: str, token: str, path: str, repeats: int, seed: int) -> dict[str, Any]:
    """The pages of `path` (a query without `page`) out of order; see the module doc."""
    connection = _connection(base)
    headers = {"Authorization": f"Bearer {token}"}

    def page(number: int) -> tuple[float, dict[str, Any]]:
        began = time.perf_counter()
        connection.request("GET", f"{path}&page={number}", headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            raise SystemExit(f"page {number}: HTTP {response.status}: {body[:200]!r}")
        return elapsed, json.loads(body)

    _, first = page(1)  # also warms the connection
    total_pages = int(first["metadata"]["total_pages"])
    last = max(total_pages, 1)
    pages = {"first": 1, "middle": max(1, (total_pages + 1) // 2), "last": last}
    pages["past_end"] = last + 1
    order = [name for name in pages for _ in range(repeats)]
    random.Random(seed).shuffle(order)
    seconds: dict[str, list[float]] = {name: [] for name in pages}
    for name in order:
        seconds[name].append(page(pages[name])[0])
    connection.close()
    counted = [value for name in ("first", "middle", "last") for value in seconds[name]]
    return {
        "total_pages": total_pages,
        "requests": len(order),
        "median_seconds": statistics.median(counted),
        "by_page": {name: statistics.median(values) for name, values in seconds.items()},
        "max_seconds": max(counted),
    }


class _KeepAlive:
    """One keep-alive HTTP/1.1 connection sending one prepared GET at a time.

    The open-loop client shares the service's two cores, so it spends as little CPU as it
    can: the request's bytes are written once, and of the answer only the status and the
    Content-Length are read (the gateway's JSON answers always carry one). aiohttp's client,
    used before, cost 0.35-0.7 ms of CPU a request, 10-20% of a feed request's whole cost.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> _KeepAlive:
        return cls(*await asyncio.open_connection(host, port))

    async def get(self, request: bytes) -> int:
        """Send `request`, read the whole answer, and return its status."""
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError("an answer without Content-Length")
        await self._reader.readexactly(length)
        return int(head[9:12])

    def close(self) -> None:
        self._writer.close()


def _prepared_get(url: str, token: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    return parts.hostname or "127.0.0.1", parts.port or 80, request.encode()


async def poisson_load(
    url: str, token: str, rate: float, connections: int, seconds: float, seed: int
) -> dict[str, Any]:
    """The feed's URL at `rate` requests a second, arrivals a Poisson process; module doc."""
    host, port, request = _prepared_get(url, token)
    arrivals: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def connection_worker(connection: _KeepAlive) -> None:
        nonlocal errors
        while (arrived := await arrivals.get()) is not None:
            try:
                if await connection.get(request) != 200:
                    errors += 1
            except (OSError, ValueError, asyncio.IncompleteReadError):
                errors += 1
                connection.close()
                connection = await _KeepAlive.open(host, port)
            latencies.append(time.perf_counter() - arrived)
        connection.close()

    async def arrive(started: float) -> int:
        gaps = random.Random(seed)
        due, sent = started, 0
        while due < started + seconds:
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            arrivals.put_nowait(due)
            sent += 1
            due += gaps.expovariate(rate)
        for _ in range(connections):
            arrivals.put_nowait(None)
        return sent

    # Open and warm every connection before the clock starts.
    pool = [await _KeepAlive.open(host, port) for _ in range(connections)]
    await asyncio.gather(*(connection.get(request) for connection in pool))
    cpu_started, started = time.process_time(), time.perf_counter()
    workers = [asyncio.create_task(connection_worker(connection)) for connection in pool]
    sent = await arrive(started)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    return {
        "tool": "python (Poisson arrivals)",
        "rate": rate,
        "connections": connections,
        "requests": sent,
        "errors": errors,
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_seconds": percentile(latencies, 0.5) if latencies else None,
        "p99_seconds": percentile(latencies, 0.99) if latencies else None,
        "max_seconds": max(latencies) if latencies else None,
        "client_cpu_seconds": time.process_time() - cpu_started,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.samplers")
    kinds = parser.add_subparsers(dest="kind", required=True)
    pages = kinds.add_parser("pages")
    pages.add_argument("--target", required=True, help="http://HOST:PORT")
    pages.add_argument("--token", required=True)
    pages.add_argument("--path", required=True, help="the export's path and query, no page")
    pages.add_argument("--repeats", type=int, default=5)
    pages.add_argument("--seed", type=int, default=1)
    load = kinds.add_parser("poisson")
    load.add_argument("--target", required=True, help="the feed's URL")
    load.add_argument("--token", required=True)
    load.add_argument("--rate", type=float, required=True)
    load.add_argument("--connections", type=int, default=32)
    load.add_argument("--seconds", type=float, default=20.0)
    load.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result: dict[str, Any]
    if args.kind == "pages":
        result = sample_pages(args.target, args.token, args.path, args.repeats, args.seed)
    else:
        result = asyncio.run(
            poisson_load(
                args.target, args.token, args.rate, args.connections, args.seconds, args.seed
            )
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
