"""The benchmark's clients, each run as a process of its own: `python -m bench.clients KIND ...`.

Every client prints one JSON object on stdout: what it measured, in seconds and counts.
Clients read and drop what they receive (counting bytes and rows as they go), so their own
cost stays small beside the service's.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import grpc

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc

READ_SIZE = 1 << 20
EXPORT_COLUMNS = ("name", "meeting_type", "start_time", "status", "group_leader_id", "price")
# The first key of every exported object, counted to count rows.
ROW_MARKER = b'{"name":'


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


class _Counter:
    """Counts occurrences of a marker across chunk boundaries."""

    def __init__(self, marker: bytes) -> None:
        self._marker = marker
        self._tail = b""
        self.count = 0
        self.size = 0
        self.last = b""

    def feed(self, chunk: bytes) -> None:
        joined = self._tail + chunk
        self.count += joined.count(self._marker)
        # Shorter than the marker, so no marker counted now is counted again next time.
        keep = len(self._marker) - 1
        self._tail = joined[-keep:] if keep else b""
        self.size += len(chunk)
        self.last = (self.last + chunk)[-16:]


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)


def _export_query(start: str, end: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The export's query: a custom range, or (no start and end) reporting_days omitted, the
    default `all` (meetings ended by each request's now)."""
    params = [("reporting_days", "custom"), ("start_time", start), ("end_time", end)]
    if not start and not end:
        params = []
    params += [("column[]", column) for column in EXPORT_COLUMNS]
    return urlencode([*params, *extra])


def rest_export(base: str, token: str, org: int, start: str, end: str) -> dict[str, Any]:
    """One unpaginated export through the gateway: time to headers, to the first row, total."""
    connection = _connection(base)
    path = f"/api/v2/organizations/{org}/export_meetings?{_export_query(start, end)}"
    counter = _Counter(ROW_MARKER)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    headers_at = time.perf_counter() - started
    first_row_at = None
    while chunk := response.read1(READ_SIZE):
        counter.feed(chunk)
        if first_row_at is None and counter.count:
            first_row_at = time.perf_counter() - started
    total = time.perf_counter() - started
    connection.close()
    return {
        "status": response.status,
        "seconds": total,
        "first_byte_seconds": headers_at,
        "first_row_seconds": first_row_at,
        "rows": counter.count,
        "bytes": counter.size,
        "complete": counter.last.endswith(b"]}"),
    }


def command_export(command: Sequence[str], marker: bytes) -> dict[str, Any]:
    """A command-line tool's dump, read from its stdout as a client would read a body."""
    counter = _Counter(marker)
    started = time.perf_counter()
    first_row_at = None
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        stdout = process.stdout
        assert isinstance(stdout, io.BufferedReader)
        while chunk := stdout.read1(READ_SIZE):
            counter.feed(chunk)
            if first_row_at is None and counter.count:
                first_row_at = time.perf_counter() - started
        code = process.wait()
    total = time.perf_counter() - started
    return {
        "status": code,
        "seconds": total,
        "first_row_seconds": first_row_at,
        "rows": counter.count,
        "bytes": counter.size,
        "complete": code == 0,
    }


def _grpc_columns() -> list[int]:
    return [pb.ExportColumn.Value("EXPORT_COLUMN_" + column.upper()) for column in EXPORT_COLUMNS]


def _civil(text: str) -> Any:
    from datetime import datetime

    from google.type import datetime_pb2

    moment = datetime.strptime(text, "%m/%d/%Y %I:%M %p")
    return datetime_pb2.DateTime(
        year=moment.year,
        month=moment.month,
        day=moment.day,
        hours=moment.hour,
        minutes=moment.minute,
    )


def grpc_export(
    target: str, token: str, org: int, start: str, end: str, encoding: str
) -> dict[str, Any]:
    """One StreamExportMeetings call, rows as typed messages or as legacy JSON."""
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = pb_grpc.MeetingsServiceStub(channel)
        request = pb.StreamExportMeetingsRequest(
            organization_id=org,
            columns=_grpc_columns(),
            reporting_days=pb.REPORTING_DAYS_CUSTOM,
            start_time=_civil(start),
            end_time=_civil(end),
            row_encoding=pb.ROW_ENCODING_JSON if encoding == "json" else pb.ROW_ENCODING_TYPED,
        )
        metadata = [("authorization", f"Bearer {token}")]
        channel_ready = grpc.channel_ready_future(channel)
        channel_ready.result(timeout=10)
        rows = size = 0
        first_row_at = None
        started = time.perf_counter()
        for message in stub.StreamExportMeetings(request, metadata=metadata):
            if encoding == "typed":
                rows += len(message.meetings)  # decodes every meeting, as a caller would
            else:
                rows += message.row_count
                size += len(message.json_meetings)
            if first_row_at is None and rows:
                first_row_at = time.perf_counter() - started
        total = time.perf_counter() - started
    return {
        "status": 0,
        "seconds": total,
        "first_row_seconds": first_row_at,
        "rows": rows,
        "bytes": size,
        "complete": True,
    }


def rest_pages(
    base: str,
    token: str,
    org: int,
    start: str,
    end: str,
    per_page: int,
    samples: int,
    budget: float,
) -> dict[str, Any]:
    """Every page of the paginated export, in order, on one keep-alive connection; then the
    first and the last page again, alternately, `samples` times each.

    A walk still going after `budget` seconds stops there; its total time is then
    extrapolated from the pages walked, and says so (`pages_walked`, `extrapolated`).
    """
    connection = _connection(base)
    headers = {"Authorization": f"Bearer {token}"}
    prefix = f"/api/v2/organizations/{org}/export_meetings?"

    def page(number: int) -> tuple[float, dict[str, Any]]:
        query = _export_query(start, end, [("page", str(number)), ("per_page", str(per_page))])
        began = time.perf_counter()
        connection.request("GET", prefix + query, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            raise SystemExit(f"page {number}: HTTP {response.status}: {body[:200]!r}")
        return elapsed, json.loads(body)

    started = time.perf_counter()
    latency, document = page(1)
    latencies = [latency]
    total_pages = int(document["metadata"]["total_pages"])
    rows = len(document["meetings"])
    walked = total_pages
    for number in range(2, total_pages + 1):
        latency, document = page(number)
        latencies.append(latency)
        rows += len(document["meetings"])
        if time.perf_counter() - started > budget:
            walked = number
            break
    walk = time.perf_counter() - started
    extrapolated = walked < total_pages
    if extrapolated:
        walk = walk * total_pages / walked
    first, last = [], []
    for _ in range(samples):
        first.append(page(1)[0])
        last.append(page(total_pages)[0])
    connection.close()
    return {
        "seconds": walk,
        "pages": total_pages,
        "pages_walked": walked,
        "extrapolated": extrapolated,
        "rows": rows,
        "page_p50_seconds": percentile(latencies, 0.5),
        "page_p99_seconds": percentile(latencies, 0.99),
        "first_page_seconds": statistics.median(first),
        "last_page_seconds": statistics.median(last),
    }


def round_trips(target: str, count: int, path: str = "/healthz") -> dict[str, Any]:
    """`count` requests that do no work, one after another: the floor under a page walk.

    http://HOST:PORT: `GET path` on one keep-alive connection: `/healthz` is the gateway
    alone, no RPC; `/readyz` is the gateway and one gRPC call (the health service's Check),
    the whole path of a page without its database work and its rows.
    HOST:PORT: the gRPC health service's Check on one channel (the server alone, no database).
    """
    started = time.perf_counter()
    if target.startswith("http"):
        connection = _connection(target)
        for _ in range(count):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
        connection.close()
    else:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            started = time.perf_counter()
            check = health_pb2_grpc.HealthStub(channel).Check
            for _ in range(count):
                check(health_pb2.HealthCheckRequest(), timeout=10)
    return {"requests": count, "seconds": time.perf_counter() - started}


async def _http_load(url: str, token: str, connections: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return _load_result(latencies, elapsed, errors)


async def _grpc_load(
    target: str, token: str, org: int, connections: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    metadata = (("authorization", f"Bearer {token}"),)
    request = pb.ListUpcomingMeetingsRequest(organization_id=org, page=1, page_size=20)
    # One channel per "connection", as h2load and wrk open one connection per client.
    channels = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(connections)
    ]

    async def worker(channel: grpc.aio.Channel) -> None:
        nonlocal errors
        stub = pb_grpc.MeetingsServiceStub(channel)
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                await stub.ListUpcomingMeetings(request, metadata=metadata)
            except grpc.aio.AioRpcError:
                errors += 1
            latencies.append(time.perf_counter() - began)

    for channel in channels:
        await channel.channel_ready()
    started = time.perf_counter()
    await asyncio.gather(*(worker(channel) for channel in channels))
    elapsed = time.perf_counter() - started
    for channel in channels:
        await channel.close(grace=None)
    return _load_result(latencies, elapsed, errors)


def _load_result(latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    return {
        "tool": "python",
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_seconds": percentile(latencies, 0.5) if latencies else None,
        "p99_seconds": percentile(latencies, 0.99) if latencies else None,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    kinds = parser.add_subparsers(dest="kind", required=True)
    for name in ("rest-export", "rest-pages", "grpc-export"):
        kind = kinds.add_parser(name)
        kind.add_argument("--target", required=True, help="http://HOST:PORT or HOST:PORT")
        kind.add_argument("--token", required=True)
        kind.add_argument("--org", type=int, required=True)
        kind.add_argument(
            "--start", default="", help="MM/DD/YYYY HH:MM AM/PM (rest-*: none, the default all)"
        )
        kind.add_argument("--end", default="")
        kind.add_argument("--encoding", choices=("json", "typed"), default="json")
        kind.add_argument("--per-page", type=int, default=100)
        kind.add_argument("--samples", type=int, default=10)
        kind.add_argument("--budget", type=float, default=600.0, help="seconds for a walk")
    command = kinds.add_parser("command-export")
    command.add_argument("--marker", default=ROW_MARKER.decode())
    command.add_argument("command", nargs=argparse.REMAINDER)
    floor = kinds.add_parser("round-trips")
    floor.add_argument("--target", required=True, help="http://HOST:PORT or HOST:PORT")
    floor.add_argument("--count", type=int, default=10_000)
    floor.add_argument("--path", default="/healthz", help="the gateway's URL path (HTTP only)")
    for name in ("http-load", "grpc-load"):
        load = kinds.add_parser(name)
        load.add_argument("--target", required=True)
        load.add_argument("--token", required=True)
        load.add_argument("--org", type=int, default=0)
        load.add_argument("--connections", type=int, default=32)
        load.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    result: dict[str, Any]
    if args.kind == "rest-export":
        result = rest_export(args.target, args.token, args.org, args.start, args.end)
    elif args.kind == "grpc-export":
        result = grpc_export(args.target, args.token, args.org, args.start, args.end, args.encoding)
    elif args.kind == "rest-pages":
        result = rest_pages(
            args.target,
            args.token,
            args.org,
            args.start,
            args.end,
            args.per_page,
            args.samples,
            args.budget,
        )
    elif args.kind == "command-export":
        argv_ = [part for part in args.command if part != "--"]
        result = command_export(argv_, args.marker.encode())
    elif args.kind == "round-trips":
        result = round_trips(args.target, args.count, args.path)
    elif args.kind == "http-load":
        result = asyncio.run(_http_load(args.target, args.token, args.connections, args.seconds))
    else:
        result = asyncio.run(
            _grpc_load(args.target, args.token, args.org, args.connections, args.seconds)
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
