"""`python -m bench.contract_check --base REV --database sqlite|postgres`: the same requests
to the service of another revision and to this checkout's, compared byte for byte.

Both services (`meetings serve`, the base's run from a temporary git worktree as in
bench.compare) serve one demo database made by this checkout's `meetings demo` (fixed seed;
its meetings are placed around the day it runs), on SQLite (a temporary file) or PostgreSQL
(a scratch database beside BENCH_POSTGRES_URL, dropped at the end). Every request goes to the
base, then at once to this checkout; the server reads the system clock, so an answer that
depends on `now` (the feed, the upcoming and default exports, a token's expiry) can change if
a meeting ends or a second turns between the two: a pair that differs is sent again once, and
only a difference that persists is reported. What is compared: bench/contract_diff.py.
Exit status: 0 identical, 1 a difference persists, 2 the two cannot be compared.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg2

from bench.build import admin_connection, environment_postgres_url, with_database
from bench.compare import worktree
from bench.contract_calls import Grpc, Rest, Side
from bench.contract_diff import differences
from bench.contract_grpc import grpc_calls
from bench.contract_rest import COLUMNS, Facts, columns, rest_calls
from bench.service import MEETINGS, code_environment, serving
from heypeers.meetings.v1 import meetings_service_pb2 as pb

_LOGGER = logging.getLogger(__name__)

SEED = 7
WALK_PAGES = 50
ALL_COLUMNS = urlencode(columns(), safe="[]")
GRPC_COLUMNS = " ".join(
    f"columns: {pb.ExportColumn.Name(number)}" for number in pb.ExportColumn.values() if number
)
ASSET = re.compile(r'(?:src|href)="(/[^"#?]+)"')


@dataclass(frozen=True)
class Demo:
    url: str
    organization_id: int
    access_key: str


@dataclass(frozen=True)
class Difference:
    call: Rest | Grpc
    lines: list[str]


def schema_of(source: Path | None, directory: Path) -> list[str]:
    """The schema a revision's code makes (its recorded version, and SQLite's definition of
    every table, index and trigger), read from a fresh SQLite file it made."""
    path = directory / f"schema-{'base' if source else 'this'}.db"
    subprocess.run(
        [MEETINGS, "demo", "--meetings", "1", "--database", f"sqlite:///{path}"],
        env=code_environment(source),
        cwd=source,
        check=True,
        capture_output=True,
    )
    with closing(sqlite3.connect(path)) as db:
        version = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        rows = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        return [f"schema_version {version}", *(f"{kind} {name}: {sql}" for kind, name, sql in rows)]


def schema_difference(checkout: Path, directory: Path) -> list[str]:
    """How the base's schema differs from this checkout's: empty when they are the same."""
    base, this = schema_of(checkout, directory), schema_of(None, directory)
    return list(difflib.unified_diff(base, this, "base", "this", lineterm="", n=0))


def make_demo(url: str, meetings: int) -> Demo:
    """This checkout's `meetings demo` on `url`: its organization id and access key."""
    done = subprocess.run(
        [MEETINGS, "demo", "--database", url, "--seed", str(SEED), "--meetings", str(meetings)],
        env=code_environment(None),
        check=True,
        capture_output=True,
        text=True,
    )
    found = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    return Demo(url, int(found["organization_id"]), found["access_key"].strip())


@contextmanager
def demo_database(kind: str, meetings: int, directory: Path, server_url: str) -> Iterator[Demo]:
    """A demo database: a SQLite file in `directory`, or a scratch PostgreSQL database on the
    server of `server_url`, dropped when the block ends."""
    if kind == "sqlite":
        yield make_demo(f"sqlite:///{directory / 'contract.db'}", meetings)
        return
    name = f"meetings_contract_{directory.name.rsplit('-', 1)[-1].lower()}"
    with closing(admin_connection(server_url)) as admin, admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_demo(with_database(server_url, name), meetings)
    finally:
        with closing(admin_connection(server_url)) as admin, admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def discover(side: Side, demo: Demo) -> Facts:
    """The facts the requests need, asked of this checkout's service: a token, a series of
    the feed, how many pages the default export has, and the assets the pages link."""
    # The custom range: six weeks back to three weeks ahead, in whole days.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    facts = Facts(
        organization_id=demo.organization_id,
        other_organization_id=demo.organization_id + 1,  # the demo's HPC organization
        access_key=demo.access_key,
        token="",
        start=today - timedelta(days=42),
        end=today + timedelta(days=21, hours=23, minutes=59),
    )
    body = json.dumps({"access_key": demo.access_key}).encode()
    headers = (("Content-Type", "application/json"),)
    answer = Rest("POST", "/api/v2/authenticate", headers, body).send(side)
    facts = replace(facts, token=json.loads(answer.body)["token"])
    feed = json.loads(facts.get("upcoming_meetings", [("items", "100")]).send(side).body)
    series = [m["meeting_series_id"] for m in feed["meetings"] if m["meeting_series_id"]]
    page = [*columns(), ("page", "1"), ("per_page", "100")]
    metadata = json.loads(facts.get("export_meetings", page).send(side).body)["metadata"]
    assets: set[str] = set()
    for path in ("/docs", "/export"):
        assets.update(ASSET.findall(Rest("GET", path).send(side).body.decode()))
    return replace(
        facts,
        series_id=series[0] if series else None,
        walk_pages=min(metadata["total_pages"], WALK_PAGES),
        assets=tuple(sorted(assets - {"/", "/docs", "/export", "/openapi.json"})),
    )


def compare(call: Rest | Grpc, base: Side, this: Side) -> tuple[list[str], bool]:
    """How the two answers to `call` differ (sent back to back, base first), and whether it
    took a second try for them to agree. A difference is sent again once before it counts."""
    lines = differences(call.send(base), call.send(this))
    if not lines:
        return [], False
    lines = differences(call.send(base), call.send(this))
    return lines, not lines


def shown(call: Rest | Grpc) -> str:
    """The request as printed: every column is named <all 18>, and a long one is cut."""
    text = call.describe().replace(ALL_COLUMNS, f"column[]=<all {len(COLUMNS)}>")
    text = text.replace(GRPC_COLUMNS, f"columns: <all {len(COLUMNS)}>")
    return text if len(text) <= 400 else text[:400] + "..."


def report(calls: Sequence[Rest | Grpc], found: list[Difference], retried: int) -> str:
    rest = sum(isinstance(call, Rest) for call in calls)
    lines = [
        f"{len(calls)} requests ({rest} REST, {len(calls) - rest} gRPC), "
        f"{len(calls) - len(found)} identical ({retried} of them on the second try)"
    ]
    if found:
        lines.append(f"{len(found)} differences:")
    for number, difference in enumerate(found, 1):
        lines.append(f"[{number}] {shown(difference.call)}")
        lines.extend(f"    {line}" for line in difference.lines)
    return "\n".join(lines)


def run_calls(
    base: Side, this: Side, demo: Demo
) -> tuple[list[Rest | Grpc], list[Difference], int]:
    facts = discover(this, demo)
    calls: list[Rest | Grpc] = [*rest_calls(facts), *grpc_calls(facts)]
    found, retried = [], 0
    for call in calls:
        lines, second_try = compare(call, base, this)
        retried += second_try
        if lines:
            found.append(Difference(call, lines))
    return calls, found, retried


def check(args: argparse.Namespace, directory: Path) -> int:
    with worktree(args.base) as (checkout, commit):
        print(f"contract check: base {commit[:12]} vs this checkout, {args.database}", flush=True)
        schema = schema_difference(checkout, directory)
        if schema and not args.newer_schema:
            print("the base's schema differs from this checkout's; one database cannot serve both")
            print("(--newer-schema lets the base serve this checkout's, when it only adds):")
            print("\n".join(schema))
            return 2
        if schema:
            print(f"the base serves this checkout's newer schema ({len(schema)} lines differ)")
        with ExitStack() as stack:
            demo = stack.enter_context(
                demo_database(args.database, args.meetings, directory, args.postgres_url)
            )
            served = serving(demo.url, directory / "base.log", source=checkout)
            base = Side(stack.enter_context(served))
            stack.callback(base.close)
            this = Side(stack.enter_context(serving(demo.url, directory / "this.log")))
            stack.callback(this.close)
            calls, found, retried = run_calls(base, this, demo)
    print(report(calls, found, retried))
    return 1 if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contract_check", description=__doc__)
    parser.add_argument("--base", required=True, help="the revision to compare with (git)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--meetings", type=int, default=5000, help="demo meetings (default 5000)")
    parser.add_argument(
        "--newer-schema",
        action="store_true",
        help="let the base serve this checkout's schema where it differs (migrations that add "
        "tables, columns or indexes an older revision ignores)",
    )
    parser.add_argument(
        "--postgres-url",
        default=environment_postgres_url(),
        help="a server to make the scratch database on (default: BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    directory = Path(tempfile.mkdtemp(prefix="meetings-contract-"))
    try:
        status = check(args, directory)
    except subprocess.CalledProcessError as exc:
        print(f"{' '.join(map(str, exc.cmd))} failed:\n{exc.stderr}", file=sys.stderr)
        status = 2
    except (RuntimeError, psycopg2.Error) as exc:  # a service that did not start; the server
        print(f"cannot compare: {exc}", file=sys.stderr)
        status = 2
    # The databases go; the services' logs stay, for a difference to be read against them.
    for path in directory.glob("*.db*"):
        path.unlink()
    logs = f" (service logs: {directory})" if any(directory.glob("*.log")) else ""
    print(f"total time: {time.perf_counter() - started:.1f} s{logs}")
    if not logs:
        directory.rmdir()
    return status


if __name__ == "__main__":
    sys.exit(main())
