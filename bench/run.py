"""`make bench`: build (or reuse) the database, start `meetings serve`, and measure the export,
the upcoming feed and a member's upcoming meetings side by side, from client processes of their
own.

    python -m bench [--meetings N] [--database sqlite|postgres|both] [--quick]

Prints one table (ratios are taken within this run) and writes every figure to
bench/results/<time>-<N>.json and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2

from bench import targets
from bench.build import (
    BenchDatabase,
    environment_postgres_url,
    postgres_database,
    sqlite_database,
)
from bench.clients import percentile
from bench.service import MemoryWatch, Service, serving
from heypeers.meetings.v1 import meetings_service_pb2 as pb

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# A custom range over every meeting the builder makes (and any other).
ALL_START, ALL_END = "01/01/2000 12:00 AM", "12/31/2099 11:59 PM"
SMALL_EXPORT_ROWS = 10_000
LEGACY_FORMAT = "%m/%d/%Y %I:%M %p"
TOOLS_HINT = "install them with `make bench-tools` (apt-get install -y wrk nghttp2-client)"
CLIENT_TIMEOUT = 1800
# A walk of every page that takes longer than this is stopped and extrapolated (and says so).
WALK_BUDGET_SECONDS = 240

# The six columns of the measured export, as the sqlite3 CLI and psql dump them.
SQLITE_REFERENCE = (
    "SELECT name, meeting_type, strftime('%Y-%m-%dT%H:%M:%fZ', start_time) AS start_time, "
    "status, group_leader_id AS group_leader, COALESCE(price, 0) AS price FROM meeting "
    "WHERE organization_id = {org} ORDER BY start_time, id"
)
POSTGRES_REFERENCE = (
    "COPY (SELECT json_build_object('name', name, 'meeting_type', meeting_type, "
    "'start_time', to_char(start_time, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "'status', status, 'group_leader', group_leader_id, 'price', COALESCE(price, 0)) "
    "FROM meeting WHERE organization_id = {org} ORDER BY start_time, id) TO STDOUT"
)


# What `--only` picks from; the table needs every one.
PARTS = ("export", "walk", "pages", "upcoming")


@dataclass(frozen=True)
class Options:
    meetings: int
    postgres_meetings: int
    databases: tuple[str, ...]
    repeats: int
    load_seconds: float
    connections: int
    quick: bool
    postgres_url: str
    parts: tuple[str, ...] = PARTS
    # A checkout of another revision whose service is measured instead (its figures "before").
    source: Path | None = None


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def run_client(*args: str) -> dict[str, Any]:
    """One client process (python -m bench.clients ...); its JSON answer."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.clients", *args],
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"client {args[0]} failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def token_for(service: Service, key: str) -> str:
    request = urllib.request.Request(
        service.http_base + "/api/v2/authenticate",
        data=json.dumps({"access_key": key}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.load(response)["token"]
    return token


def walk_pages(
    service: Service,
    token: str,
    db: BenchDatabase,
    samples: int,
    budget_seconds: float,
    *,
    default_preset: bool = False,
) -> dict[str, Any]:
    """Every page of the whole export (per_page=100) on one connection, in a client process;
    a walk longer than the budget is extrapolated from the pages walked. `default_preset`:
    reporting_days omitted (the default `all`, evaluated at each request's now) instead of
    a custom range holding every meeting."""
    args = export_args(service, token, db)
    if default_preset:
        args = ["--token", token, "--org", str(db.organization_id)]
    return run_client(
        "rest-pages",
        "--target",
        service.http_base,
        "--per-page",
        "100",
        "--samples",
        str(samples),
        "--budget",
        str(budget_seconds),
        *args,
    )


def small_export_end(db: BenchDatabase) -> str:
    """The end of a custom range holding the first SMALL_EXPORT_ROWS meetings (a few more
    when several start at the same minute), in the legacy format."""
    sql = (
        f"SELECT start_time FROM meeting WHERE organization_id = {db.organization_id} "
        "ORDER BY start_time, id "
        f"LIMIT 1 OFFSET {min(SMALL_EXPORT_ROWS, db.meetings) - 1}"
    )
    value: Any
    if db.path is not None:
        with closing(sqlite3.connect(db.path)) as connection:
            value = connection.execute(sql).fetchone()[0]
        moment = datetime.fromisoformat(value)
    else:
        with closing(psycopg2.connect(db.url)) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            moment = cursor.fetchone()[0]
    return moment.strftime(LEGACY_FORMAT)


def export_args(service: Service, token: str, db: BenchDatabase, end: str = ALL_END) -> list[str]:
    return ["--token", token, "--org", str(db.organization_id), "--start", ALL_START, "--end", end]


def reference_export(db: BenchDatabase, options: Options) -> dict[str, Any]:
    """The near-C limit: the database's own command-line tool dumping the same rows as JSON."""
    if db.path is not None:
        sql = SQLITE_REFERENCE.format(org=db.organization_id)
        command = ["sqlite3", "-readonly", "-json", str(db.path), sql]
        tool = "sqlite3 CLI (.mode json)"
    else:
        sql = POSTGRES_REFERENCE.format(org=db.organization_id)
        command = ["psql", "-X", "-q", "-d", db.url, "-c", sql]
        tool = "psql COPY (json_build_object)"
    result = run_client("command-export", "--marker", '{"name"', "--", *command)
    result["tool"] = tool
    return result


def rows_per_second(result: dict[str, Any]) -> float:
    return float(result["rows"] / result["seconds"]) if result["seconds"] else 0.0


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs (the least disturbed by the machine's other work)."""
    return min(results, key=lambda result: result["seconds"])


# --- load tools ---


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable duration {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk_load(url: str, token: str, options: Options, threads: int = 2) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{options.connections}",
        f"-d{max(1, round(options.load_seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=options.load_seconds + 60, check=True
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "tool": "wrk",
        "requests": int(total.group(1)) if total else 0,
        "errors": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else None,
        "requests_per_second": float(rps.group(1)) if rps else 0.0,
        "p50_seconds": _seconds(percentiles["50"]),
        "p99_seconds": _seconds(percentiles["99"]),
    }


def _grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


def h2load_load(
    service: Service, token: str, org: int, options: Options, threads: int = 2
) -> dict[str, Any]:
    request = pb.ListUpcomingMeetingsRequest(organization_id=org, page=1, page_size=20)
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "request.bin"
        body.write_bytes(_grpc_frame(request.SerializeToString()))
        log_file = Path(scratch) / "requests.tsv"
        command = [
            "h2load",
            f"-t{threads}",
            f"-c{options.connections}",
            "-m1",
            f"-D{max(1, round(options.load_seconds))}",
            f"--log-file={log_file}",
            "-d",
            str(body),
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            "-H",
            f"authorization: Bearer {token}",
            f"http://{service.grpc_target}/heypeers.meetings.v1.MeetingsService/ListUpcomingMeetings",
        ]
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=options.load_seconds + 60, check=True
        ).stdout
        latencies = []
        for line in log_file.read_text().splitlines():
            _, status, micros = line.split("\t")[:3]
            if status == "200":
                latencies.append(int(micros) / 1e6)
    rps = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", output)
    done = re.search(
        r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", output
    )
    data = re.search(r"\((\d+)\) data", output)
    succeeded = int(done.group(2)) if done else len(latencies)
    # gRPC answers HTTP 200 even for a failed call (the status is in the trailers), so h2load
    # counts failures as successes: a failed call carries no message, which the bytes show.
    expected = len(_upcoming_response(service, token, org)) + 5
    per_request = int(data.group(1)) / succeeded if data and succeeded else 0.0
    errors = int(done.group(3)) if done else 0
    if per_request < 0.9 * expected:
        errors = max(errors, succeeded)
    return {
        "tool": "h2load",
        "requests": succeeded,
        "errors": errors,
        "requests_per_second": float(rps.group(1)) if rps else 0.0,
        "p50_seconds": percentile(latencies, 0.5) if latencies else None,
        "p99_seconds": percentile(latencies, 0.99) if latencies else None,
        "data_bytes_per_request": per_request,
        "expected_bytes_per_request": expected,
    }


def _upcoming_response(service: Service, token: str, org: int) -> bytes:
    """The feed's first page over gRPC, serialized: what every h2load request should get."""
    import grpc

    from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc

    with grpc.insecure_channel(service.grpc_target) as channel:
        stub = pb_grpc.MeetingsServiceStub(channel)
        request = pb.ListUpcomingMeetingsRequest(organization_id=org, page=1, page_size=20)
        response = stub.ListUpcomingMeetings(
            request, metadata=[("authorization", f"Bearer {token}")], timeout=30
        )
    serialized: bytes = response.SerializeToString()
    return serialized


def gateway_load(url: str, token: str, options: Options, *, warm: bool = True) -> dict[str, Any]:
    """The feed's URL under `options.connections` connections (wrk, else the Python client)."""
    common = ["--token", token, "--connections", str(options.connections)]
    if warm:
        seconds = str(max(1.0, options.load_seconds / 5))
        run_client("http-load", "--target", url, *common, "--seconds", seconds)
    if shutil.which("wrk"):
        return wrk_load(url, token, options)
    return run_client("http-load", "--target", url, *common, "--seconds", str(options.load_seconds))


def upcoming_load(
    service: Service, token: str, db: BenchDatabase, options: Options
) -> dict[str, Any]:
    """The feed's first page of 20 through the gateway and over gRPC, at the same concurrency."""
    url = (
        f"{service.http_base}/api/v2/organizations/{db.organization_id}"
        "/upcoming_meetings?page=1&items=20"
    )
    have_wrk, have_h2load = shutil.which("wrk"), shutil.which("h2load")
    if not (have_wrk and have_h2load):
        log(f"wrk or h2load is missing: using the Python load clients instead; {TOOLS_HINT}")
    warm = max(1.0, options.load_seconds / 5)
    common = ["--token", token, "--connections", str(options.connections)]
    # Warm both paths (connections, caches), then measure.
    run_client("http-load", "--target", url, *common, "--seconds", str(warm))
    run_client(
        "grpc-load",
        "--target",
        service.grpc_target,
        "--org",
        str(db.organization_id),
        *common,
        "--seconds",
        str(warm),
    )
    seconds = ["--seconds", str(options.load_seconds)]
    gateway = gateway_load(url, token, options, warm=False)
    direct = (
        h2load_load(service, token, db.organization_id, options)
        if have_h2load
        else run_client(
            "grpc-load",
            "--target",
            service.grpc_target,
            "--org",
            str(db.organization_id),
            *common,
            *seconds,
        )
    )
    # One connection: the time one request takes, with no queue in front of it.
    single = replace(options, connections=1, load_seconds=max(2.0, round(options.load_seconds / 3)))
    one = ["--token", token, "--connections", "1", "--seconds", str(single.load_seconds)]
    gateway_one = (
        wrk_load(url, token, single, threads=1)
        if have_wrk
        else run_client("http-load", "--target", url, *one)
    )
    direct_one = (
        h2load_load(service, token, db.organization_id, single, threads=1)
        if have_h2load
        else run_client(
            "grpc-load", "--target", service.grpc_target, "--org", str(db.organization_id), *one
        )
    )
    # The floor under the feed: the gateway and one gRPC call that reads nothing (/readyz),
    # under the same load.
    readyz = gateway_load(f"{service.http_base}/readyz", token, options)
    member, member_one = member_load(service, token, db, options, single)
    return {
        "member_gateway": member,
        "member_gateway_one_connection": member_one,
        "gateway": gateway,
        "direct": direct,
        "readyz": readyz,
        "gateway_one_connection": gateway_one,
        "direct_one_connection": direct_one,
    }


def member_load(
    service: Service, token: str, db: BenchDatabase, options: Options, single: Options
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member's first page of 10 through the gateway, at the feed's load and alone."""
    url = (
        f"{service.http_base}/api/v2/organizations/{db.organization_id}/members/"
        f"{quote(db.member_idp_id, safe='')}/upcoming_meetings?page=1&items=10"
    )
    loaded = gateway_load(url, token, options)
    alone = (
        wrk_load(url, token, single, threads=1)
        if shutil.which("wrk")
        else run_client(
            "http-load",
            "--target",
            url,
            "--token",
            token,
            "--connections",
            "1",
            "--seconds",
            str(single.load_seconds),
        )
    )
    return loaded, alone


# --- one database ---


def _rest_export(service: Service, token: str, db: BenchDatabase, end: str = ALL_END) -> Any:
    return run_client(
        "rest-export", "--target", service.http_base, *export_args(service, token, db, end)
    )


def _exports(
    service: Service, token: str, db: BenchDatabase, label: str, options: Options
) -> dict[str, Any]:
    """The whole export from each client, `repeats` times, interleaved so that a disturbance
    of the machine hits them alike; the first REST run is the one whose memory was watched."""
    result: dict[str, Any] = {}
    with MemoryWatch(service.pid) as watch:
        first_rest = _rest_export(service, token, db)
    result["large_export_memory"] = {
        "peak_rss_kib": max(watch.peak_rss_kib, watch.high_water_kib())
    }
    runs: dict[str, list[dict[str, Any]]] = {
        "reference": [],
        "rest": [first_rest],
        "grpc_json": [],
        "grpc_typed": [],
    }
    for round_ in range(options.repeats):
        log(f"{label}: export round {round_ + 1}/{options.repeats}: reference, REST, gRPC")
        runs["reference"].append(reference_export(db, options))
        if round_:
            runs["rest"].append(_rest_export(service, token, db))
        for encoding in ("json", "typed"):
            runs[f"grpc_{encoding}"].append(
                run_client(
                    "grpc-export",
                    "--target",
                    service.grpc_target,
                    "--encoding",
                    encoding,
                    *export_args(service, token, db),
                )
            )
    result["export_runs"] = runs
    result["export"] = {name: best(values) for name, values in runs.items()}
    result["first_byte_seconds"] = min(run["first_byte_seconds"] for run in runs["rest"])
    result["first_row_seconds"] = min(run["first_row_seconds"] or 0 for run in runs["rest"])
    for name, run in result["export"].items():
        if run["rows"] != db.meetings:
            raise RuntimeError(f"{label} {name}: {run['rows']} rows, expected {db.meetings}")
    return result


def bench_database(db: BenchDatabase, label: str, options: Options, stamp: str) -> dict[str, Any]:
    """Every measurement of one database; each service is a fresh process."""
    log_dir = RESULTS_DIR / f"{stamp}-logs"
    result: dict[str, Any] = {
        "database": label,
        "meetings": db.meetings,
        "built_seconds": db.built_seconds,
    }
    if "export" in options.parts:
        log(f"{label}: service memory during a {SMALL_EXPORT_ROWS:,}-row export (fresh service)")
        small_end = small_export_end(db)
        with serving(db.url, log_dir / f"{label}-small.log", source=options.source) as service:
            token = token_for(service, db.access_key)
            with MemoryWatch(service.pid) as watch:
                small = _rest_export(service, token, db, small_end)
            peak = max(watch.peak_rss_kib, watch.high_water_kib())
            result["small_export"] = {**small, "peak_rss_kib": peak}

    with serving(db.url, log_dir / f"{label}-main.log", source=options.source) as service:
        token = token_for(service, db.access_key)
        if "export" in options.parts:
            log(f"{label}: the whole export ({db.meetings:,} rows), fresh service")
            result.update(_exports(service, token, db, label, options))
        if "walk" in options.parts:
            log(f"{label}: walking every page (per_page=100)")
            samples = 5 if options.quick else 20
            result["pages"] = walk_pages(service, token, db, samples, WALK_BUDGET_SECONDS)
            log(f"{label}: walking every page of the default export (reporting_days omitted)")
            result["default_pages"] = walk_pages(
                service, token, db, samples, WALK_BUDGET_SECONDS, default_preset=True
            )
            # As many requests that do no work, over each hop: what a walk costs before any
            # page is read.
            count = ["--count", str(result["pages"]["pages"])]
            result["round_trips"] = {
                "http": run_client("round-trips", "--target", service.http_base, *count),
                "grpc": run_client("round-trips", "--target", service.grpc_target, *count),
                "http_grpc": run_client(
                    "round-trips", "--target", service.http_base, "--path", "/readyz", *count
                ),
            }
        if "pages" in options.parts:
            log(f"{label}: pages out of order, every preset; {targets.CLIENTS} clients on page 1")
            repeats = 2 if options.quick else 5
            result["out_of_order"] = targets.measure_pages(
                service.http_base, token, db.organization_id, repeats
            )
            result["clients"] = {
                name: run_client(
                    "http-load",
                    "--target",
                    service.http_base
                    + targets.export_path(db.organization_id, preset, narrow=narrow)
                    + "&page=1",
                    "--token",
                    token,
                    "--connections",
                    str(targets.CLIENTS),
                    "--seconds",
                    str(options.load_seconds),
                )
                for name, preset, narrow in (
                    ("all_upcoming", "all_upcoming", False),
                    ("narrow", "custom", True),
                )
            }
        if "upcoming" in options.parts:
            log(
                f"{label}: upcoming feed under load "
                f"({options.connections} connections, {options.load_seconds:g}s)"
            )
            result["upcoming"] = upcoming_load(service, token, db, options)
            log(f"{label}: upcoming feed through the gateway, Poisson arrivals")
            feed = (
                f"{service.http_base}/api/v2/organizations/{db.organization_id}"
                "/upcoming_meetings?page=1&items=20"
            )
            closed_loop = result["upcoming"]["gateway"]["requests_per_second"]
            result["feed_poisson_relative"] = targets.poisson_run(
                feed, token, targets.RELATIVE_LOAD * closed_loop, options.quick, service.pid
            )
            result["feed_poisson"] = targets.measure_feed(
                feed, token, label, options.quick, service.pid
            )
            member = (
                f"{service.http_base}/api/v2/organizations/{db.organization_id}/members/"
                f"{quote(db.member_idp_id, safe='')}/upcoming_meetings?page=1&items=10"
            )
            log(f"{label}: a member's upcoming meetings, the same Poisson arrivals")
            result["member_poisson"] = targets.measure_feed(
                member, token, label, options.quick, service.pid
            )
            # The floor under it: /readyz (no database) under the same arrivals, lower rate.
            result["readyz_poisson"] = targets.measure_feed(
                service.http_base + "/readyz", token, label, options.quick, service.pid, rates=1
            )
    if "upcoming" in options.parts:
        # The feed through other ways of running the same command: both tiers in one process
        # (what `serve` was before it ran them apart), and two workers per tier.
        for key, flags in (
            ("one_process", ("--one-process",)),
            ("two_workers", ("--workers", "2")),
        ):
            log(f"{label}: upcoming feed through the gateway, `meetings serve {' '.join(flags)}`")
            with serving(
                db.url, log_dir / f"{label}-{key}.log", *flags, source=options.source
            ) as service:
                url = (
                    f"{service.http_base}/api/v2/organizations/{db.organization_id}"
                    "/upcoming_meetings?page=1&items=20"
                )
                token = token_for(service, db.access_key)
                result["upcoming"][f"gateway_{key}"] = gateway_load(url, token, options)
                if key == "two_workers":
                    result["upcoming"][f"readyz_{key}"] = gateway_load(
                        service.http_base + "/readyz", token, options
                    )
    return result


# --- the table ---


def _rate(value: float) -> str:
    return f"{value:,.0f} rows/s"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _mb(kib: int) -> str:
    return f"{kib / 1024:.0f} MB"


def _verdict(ok: bool) -> str:
    return "holds" if ok else "MISSES"


def _load_cell(load: dict[str, Any]) -> str:
    return (
        f"{load['requests_per_second']:,.0f} req/s, p50 {_ms(load['p50_seconds'])}, "
        f"p99 {_ms(load['p99_seconds'])} [{load['tool']}]"
        + (f" ({load['errors']} errors)" if load.get("errors") else "")
    )


def table(results: list[dict[str, Any]], machine: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The printed table, and each target's ratio and verdict per database."""
    header = (
        ["measurement"] + [f"{r['database']} (N={r['meetings']:,})" for r in results] + ["target"]
    )
    rows: list[list[str]] = []
    verdicts: dict[str, Any] = {}

    def line(name: str, cells: list[str], target: str = "") -> None:
        rows.append([name, *cells, target])

    refs = [r["export"]["reference"] for r in results]
    line(
        "reference dump (CLI tool, JSON rows)",
        [f"{_rate(rows_per_second(x))} [{x['tool'].split()[0]}]" for x in refs],
    )
    for key, name, target in (
        ("rest", "REST streamed export", ">= 0.5x ref"),
        ("grpc_json", "gRPC stream, JSON rows", ""),
        ("grpc_typed", "gRPC stream, typed rows", ""),
    ):
        cells = []
        for r in results:
            ratio = rows_per_second(r["export"][key]) / rows_per_second(r["export"]["reference"])
            cell = f"{_rate(rows_per_second(r['export'][key]))} ({ratio:.2f}x)"
            if key == "rest":
                verdicts.setdefault(r["database"], {})["rest_vs_reference"] = {
                    "ratio": ratio,
                    "holds": ratio >= 0.5,
                }
                cell += f" {_verdict(ratio >= 0.5)}"
            cells.append(cell)
        line(name, cells, target)
    cells = []
    for r in results:
        ttfb = r["first_byte_seconds"]
        cold = r["export_runs"]["rest"][0]["first_byte_seconds"]
        verdicts[r["database"]]["first_byte"] = {
            "seconds": ttfb,
            "first_after_start_seconds": cold,
            "holds": ttfb < 0.1,
        }
        cells.append(f"{_ms(ttfb)}, first row {_ms(r['first_row_seconds'])} {_verdict(ttfb < 0.1)}")
    line("first byte of the whole export", cells, "< 100 ms")
    line(
        "  the same, first export after start",
        [_ms(r["export_runs"]["rest"][0]["first_byte_seconds"]) for r in results],
    )
    cells = []
    for r in results:
        large, small = r["large_export_memory"]["peak_rss_kib"], r["small_export"]["peak_rss_kib"]
        ratio = large / small
        verdicts[r["database"]]["memory"] = {"ratio": ratio, "holds": ratio <= 1.2}
        cells.append(f"{_mb(large)} / {_mb(small)} ({ratio:.2f}x) {_verdict(ratio <= 1.2)}")
    line(f"service peak RSS: all rows / {SMALL_EXPORT_ROWS:,}", cells, "<= 1.2x")
    cells = []
    for r in results:
        walk, stream = r["pages"]["seconds"], r["export"]["rest"]["seconds"]
        ratio = walk / stream
        verdicts[r["database"]]["walk"] = {"ratio": ratio, "holds": ratio <= 3}
        walked = r["pages"]
        note = (
            f", extrapolated from {walked['pages_walked']:,}" if walked.get("extrapolated") else ""
        )
        cells.append(
            f"{walk:.1f} s / {stream:.1f} s, {walked['pages']:,} pages{note} ({ratio:.1f}x) "
            f"{_verdict(ratio <= 3)}"
        )
    line("every page (per_page=100) / stream", cells, "<= 3x")
    cells = []
    for r in results:
        walked, custom = r["default_pages"], r["pages"]
        note = (
            f", extrapolated from {walked['pages_walked']:,}" if walked.get("extrapolated") else ""
        )
        per_page = walked["seconds"] / max(walked["pages"], 1)
        custom_per_page = custom["seconds"] / max(custom["pages"], 1)
        cells.append(
            f"{walked['seconds']:.1f} s, {walked['pages']:,} pages{note}: "
            f"{_ms(per_page)} a page (custom range: {_ms(custom_per_page)})"
        )
    line("  the same, reporting_days omitted (all)", cells)
    cells = []
    for r in results:
        trips, stream = r["round_trips"], r["export"]["rest"]["seconds"]
        both = trips["http_grpc"]["seconds"]
        http_s, grpc_s = trips["http"]["seconds"], trips["grpc"]["seconds"]
        cells.append(
            f"{both:.1f} s ({both / stream:.1f}x the stream); "
            f"HTTP alone {http_s:.1f} s, gRPC alone {grpc_s:.1f} s"
        )
    line("  floor: as many calls reading nothing", cells)
    cells = []
    for r in results:
        first, last = r["pages"]["first_page_seconds"], r["pages"]["last_page_seconds"]
        ratio = last / first
        verdicts[r["database"]]["last_page"] = {"ratio": ratio, "holds": ratio <= 2}
        cells.append(f"{_ms(last)} / {_ms(first)} ({ratio:.2f}x) {_verdict(ratio <= 2)}")
    line("last page / first page latency", cells, "<= 2x")
    for key, name in (("gateway", "upcoming via gateway"), ("direct", "upcoming direct gRPC")):
        cells = []
        for r in results:
            load = r["upcoming"][key]
            cells.append(
                f"{load['requests_per_second']:,.0f} req/s, p50 {_ms(load['p50_seconds'])}, "
                f"p99 {_ms(load['p99_seconds'])} [{load['tool']}]"
                + (f" ({load['errors']} errors)" if load.get("errors") else "")
            )
        line(name, cells)
    ratio_cells, p99_cells = [], []
    for r in results:
        gateway, direct = r["upcoming"]["gateway"], r["upcoming"]["direct"]
        ratio = gateway["requests_per_second"] / direct["requests_per_second"]
        p99 = gateway["p99_seconds"]
        verdicts[r["database"]]["upcoming_throughput"] = {"ratio": ratio, "holds": ratio >= 0.5}
        ratio_cells.append(f"{ratio:.2f}x {_verdict(ratio >= 0.5)}")
        # For information: a closed loop's p99 is its own queue (see the Poisson rows).
        p99_cells.append(_ms(p99))
    line("upcoming: gateway / direct throughput", ratio_cells, ">= 0.5x")
    line(
        "  one connection: gateway / direct p50",
        [
            f"{_ms(r['upcoming']['gateway_one_connection']['p50_seconds'])} / "
            f"{_ms(r['upcoming']['direct_one_connection']['p50_seconds'])}"
            for r in results
        ],
    )
    line(f"upcoming: gateway p99, closed loop ({machine['connections']} conn.)", p99_cells)
    line(
        "member's upcoming via gateway (page of 10)",
        [
            f"{_load_cell(r['upcoming']['member_gateway'])}; one connection p50 "
            f"{_ms(r['upcoming']['member_gateway_one_connection']['p50_seconds'])}"
            for r in results
        ],
    )

    def load_cell(load: dict[str, Any]) -> str:
        return (
            f"{load['requests_per_second']:,.0f} req/s, p50 {_ms(load['p50_seconds'])}, "
            f"p99 {_ms(load['p99_seconds'])}"
        )

    line(
        "  floor: /readyz (HTTP + gRPC, no database)",
        [load_cell(r["upcoming"]["readyz"]) for r in results],
    )
    for key, name in (("one_process", "--one-process"), ("two_workers", "--workers 2")):
        cells = []
        for r in results:
            other, default = r["upcoming"][f"gateway_{key}"], r["upcoming"]["gateway"]
            cells.append(
                f"{other['requests_per_second']:,.0f} req/s "
                f"({other['requests_per_second'] / default['requests_per_second']:.2f}x), "
                f"p50 {_ms(other['p50_seconds'])}, p99 {_ms(other['p99_seconds'])}"
            )
        line(f"  the same, serve {name}", cells)
    line(
        "  floor: /readyz, serve --workers 2",
        [load_cell(r["upcoming"]["readyz_two_workers"]) for r in results],
    )

    for name, cells, target in targets.rows(results, verdicts):
        line(name, cells, target)

    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rendered = [
        f"Meetings API benchmark, {machine['when']}: {machine['cores']} cores ({machine['cpu']}), "
        f"Python {machine['python']}, {machine['connections']} connections x "
        f"{machine['load_seconds']:g} s for load",
        " | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)),
        "-+-".join("-" * width for width in widths),
    ]
    rendered += [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(rendered), verdicts


def machine_facts(options: Options) -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "connections": options.connections,
        "load_seconds": options.load_seconds,
        "wrk": bool(shutil.which("wrk")),
        "h2load": bool(shutil.which("h2load")),
    }


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a small smoke run (N=20,000, short load)"
    )
    parser.add_argument(
        "--meetings", type=int, default=int(os.environ.get("BENCH_MEETINGS", 1_000_000))
    )
    parser.add_argument(
        "--postgres-meetings", type=int, default=None, help="N for PostgreSQL (default: --meetings)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres", "both"),
        default=os.environ.get("BENCH_DATABASE", "both"),
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="export runs per client; the fastest counts"
    )
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run ({', '.join(PARTS)}); the table needs all of them",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="a checkout of another revision: measure its service (on this checkout's data)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.meetings, args.repeats, args.load_seconds = 20_000, 1, 2.0
    postgres_meetings = args.postgres_meetings or int(
        os.environ.get("BENCH_POSTGRES_MEETINGS", args.meetings)
    )
    if args.quick:
        postgres_meetings = args.meetings
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    return Options(
        meetings=args.meetings,
        postgres_meetings=postgres_meetings,
        databases=databases,
        repeats=max(1, args.repeats),
        load_seconds=args.load_seconds,
        connections=args.connections,
        quick=args.quick,
        postgres_url=environment_postgres_url(),
        parts=tuple(part.strip() for part in args.only.split(",") if part.strip()),
        source=args.source,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    if not (shutil.which("wrk") and shutil.which("h2load")):
        log(
            f"wrk and h2load measure the feed under load; {TOOLS_HINT}. "
            "Falling back to Python clients."
        )
    machine = machine_facts(options)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results = []
    started = time.perf_counter()
    for database in options.databases:
        if database == "sqlite":
            db = sqlite_database(options.meetings)
            label = "SQLite"
        else:
            db = postgres_database(options.postgres_url, options.postgres_meetings)
            label = "PostgreSQL"
        results.append(bench_database(db, label, options, stamp))
    if set(options.parts) != set(PARTS):
        print(json.dumps(results, indent=1, default=str))
        return 0
    rendered, verdicts = table(results, machine)
    command = "make bench-quick" if options.quick else "make bench"
    document = {
        "command": command,
        "argv": sys.argv,
        "machine": machine,
        "options": options.__dict__,
        "seconds": time.perf_counter() - started,
        "results": results,
        "verdicts": verdicts,
        "table": rendered,
    }
    text = json.dumps(document, indent=2, default=str)
    (RESULTS_DIR / f"{stamp}-{options.meetings}.json").write_text(text)
    if options.source is None:  # another revision's figures are not this checkout's latest
        (RESULTS_DIR / ("latest-quick.json" if options.quick else "latest.json")).write_text(text)
    print(rendered)
    print(
        f"\n(results: bench/results/{stamp}-{options.meetings}.json; "
        f"took {document['seconds']:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
