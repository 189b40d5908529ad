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


async def poisson_load(
    url: str, token: str, rate: float, connections: int, seconds: float, seed: int
) -> dict[str, Any]:
    """The feed's URL at `rate` requests a second, arrivals a Poisson process; module doc."""
    import aiohttp

    arrivals: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}

    async def connection_worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while (arrived := await arrivals.get()) is not None:
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - arrived)

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

    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def warm() -> None:
            async with session.get(url, headers=headers) as response:
                await response.read()

        # Open every connection before the clock starts.
        await asyncio.gather(*(warm() for _ in range(connections)))
        started = time.perf_counter()
        workers = [asyncio.create_task(connection_worker(session)) for _ in range(connections)]
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
