"""`python -m bench.compare --base REV`: the service of another revision and of this checkout,
side by side on the same database, with the benchmark's own clients.

A change's effect on this shared, noisy machine is only readable as a ratio measured in one
run: the two services are started in turn (base, then this checkout, for every round), each
fresh, on the same cached bench database, and measured the same way:
- the feed's first page of 20 through the gateway under `wrk` (as `make bench`; the Python
  load client without it),
- the whole export streamed through the gateway (JSON, every meeting),
- a walk of the export's pages (per_page=100) for a fixed time, with the page latencies:
  of a custom range holding every meeting (as `make bench`), then with reporting_days
  omitted (the default `all`, whose set moves with each request's now: "walk, all");
- pages asked out of order ("jump": the median over page 1, the middle and the last page,
  each three times, shuffled) of a narrow custom range, of all_upcoming and of all; and
- the feed under Poisson arrivals at the database's lower target rate (bench.targets), for
  as long as the closed-loop load.

The base revision is checked out into a temporary git worktree (removed at the end) and run
from there ahead of the installed project; the clients, the database and the tools are this
checkout's. Revisions whose schema differs from this checkout's cannot share its database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import targets
from bench.build import (
    BenchDatabase,
    environment_postgres_url,
    postgres_database,
    sqlite_database,
)
from bench.run import (
    RESULTS_DIR,
    Options,
    export_args,
    gateway_load,
    log,
    rows_per_second,
    run_client,
    token_for,
    walk_pages,
)
from bench.service import cpu_by_role, serving

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("base", "this")


@contextmanager
def worktree(revision: str) -> Iterator[tuple[Path, str]]:
    """A detached checkout of `revision`, and its commit; removed when the block ends."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="meetings-bench-base-") as parent:
        path = Path(parent) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), commit],
            cwd=ROOT,
            check=True,
        )
        try:
            yield path, commit
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False
            )


def measure(
    db: BenchDatabase, source: Path | None, options: Options, walk_seconds: float, log_dir: Path
) -> dict[str, Any]:
    """One fresh service (from `source`, or this checkout): the feed, then a timed walk."""
    name = "base" if source is not None else "this"
    with serving(db.url, log_dir / f"compare-{name}.log", source=source) as service:
        token = token_for(service, db.access_key)
        url = (
            f"{service.http_base}/api/v2/organizations/{db.organization_id}"
            "/upcoming_meetings?page=1&items=20"
        )
        feed = gateway_load(url, token, options)
        walk = walk_pages(service, token, db, 5, walk_seconds)
        default_walk = walk_pages(service, token, db, 5, walk_seconds, default_preset=True)
        stream = run_client(
            "rest-export", "--target", service.http_base, *export_args(service, token, db)
        )
        # Pages out of order: page 1, the middle and the last of two presets and of a narrow
        # range; and the feed under Poisson arrivals at the database's lower target rate.
        common = ["--target", service.http_base, "--token", token, "--repeats", "3"]
        org = db.organization_id
        sampled = {
            key: targets.run_sampler("pages", *common, "--path", path)["median_seconds"]
            for key, path in (
                ("narrow", targets.export_path(org, "custom", narrow=True)),
                ("all_upcoming", targets.export_path(org, "all_upcoming")),
                ("all", targets.export_path(org, "all")),
            )
        }
        label = "SQLite" if db.path is not None else "PostgreSQL"
        (rate, _), _ = targets.FEED_RATES[label]
        before = cpu_by_role(service.pid)
        poisson = targets.run_sampler(
            "poisson", "--target", url, "--token", token, "--rate", str(rate),
            "--seconds", str(options.load_seconds),
        )  # fmt: skip
        after = cpu_by_role(service.pid)
    requests = max(poisson["requests"], 1)
    service_cpu = sum(after.values()) - sum(before.values())
    return {
        # CPU seconds the service (every process) spent a feed request under the arrivals.
        "feed_cpu_seconds": service_cpu / requests,
        "stream_rows_per_second": rows_per_second(stream),
        "poisson_p99_seconds": poisson["p99_seconds"],
        "poisson_errors": poisson["errors"],
        "out_of_order_narrow_seconds": sampled["narrow"],
        "out_of_order_all_upcoming_seconds": sampled["all_upcoming"],
        "out_of_order_all_seconds": sampled["all"],
        "feed_requests_per_second": feed["requests_per_second"],
        "feed_p50_seconds": feed["p50_seconds"],
        "feed_p99_seconds": feed["p99_seconds"],
        "feed_errors": feed["errors"],
        # The client extrapolates a walk cut short by the budget to every page.
        "pages_per_second": walk["pages"] / walk["seconds"],
        "page_p50_seconds": walk["page_p50_seconds"],
        "default_pages_per_second": default_walk["pages"] / default_walk["seconds"],
        "default_page_p50_seconds": default_walk["page_p50_seconds"],
    }


FIGURES = (
    ("stream_rows_per_second", "stream rows/s", "{:,.0f}", True),
    ("feed_requests_per_second", "feed req/s", "{:,.0f}", True),
    ("feed_p50_seconds", "feed p50", "{:.1f} ms", False),
    ("feed_p99_seconds", "feed p99", "{:.1f} ms", False),
    ("pages_per_second", "walk pages/s", "{:,.0f}", True),
    ("page_p50_seconds", "page p50", "{:.2f} ms", False),
    ("default_pages_per_second", "walk, all", "{:,.0f}", True),
    ("default_page_p50_seconds", "page p50, all", "{:.2f} ms", False),
    ("out_of_order_narrow_seconds", "jump, narrow", "{:.2f} ms", False),
    ("out_of_order_all_upcoming_seconds", "jump, upcoming", "{:.2f} ms", False),
    ("out_of_order_all_seconds", "jump, all", "{:.2f} ms", False),
    ("poisson_p99_seconds", "Poisson p99", "{:.1f} ms", False),
    ("feed_cpu_seconds", "feed CPU", "{:.2f} ms", False),
)


def table(rounds: list[dict[str, dict[str, Any]]], base: str, database: str) -> str:
    """Every round's figures for both sides, then the medians and this/base."""
    lines = [
        f"base {base[:12]} vs this checkout, {database}, {len(rounds)} rounds (alternating)",
        f"{'figure':<14}| "
        + " | ".join(f"round {n + 1} base / this" for n in range(len(rounds)))
        + " | median base / this | this vs base",
    ]
    for key, label, form, higher_is_better in FIGURES:
        scale = 1000 if key.endswith("_seconds") else 1

        def shown(value: float, form: str = form, scale: int = scale) -> str:
            return form.format(value * scale)

        cells = [f"{shown(r['base'][key])} / {shown(r['this'][key])}" for r in rounds]
        base_median = statistics.median(r["base"][key] for r in rounds)
        this_median = statistics.median(r["this"][key] for r in rounds)
        ratio = this_median / base_median if higher_is_better else base_median / this_median
        lines.append(
            f"{label:<14}| "
            + " | ".join(cells)
            + f" | {shown(base_median)} / {shown(this_median)} | {ratio:.2f}x"
            + (" faster" if ratio >= 1 else " slower")
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--base", required=True, help="the revision to compare with (git)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--walk-seconds", type=float, default=25.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="20,000 meetings, 1 round, short")
    args = parser.parse_args(argv)
    if args.quick:
        args.meetings, args.rounds, args.load_seconds, args.walk_seconds = 20_000, 1, 2.0, 3.0
    options = Options(
        meetings=args.meetings,
        postgres_meetings=args.meetings,
        databases=(args.database,),
        repeats=1,
        load_seconds=args.load_seconds,
        connections=args.connections,
        quick=args.quick,
        postgres_url=environment_postgres_url(),
    )
    db = (
        sqlite_database(args.meetings)
        if args.database == "sqlite"
        else postgres_database(options.postgres_url, args.meetings)
    )
    log_dir = Path(tempfile.mkdtemp(prefix="meetings-bench-compare-"))
    rounds: list[dict[str, dict[str, Any]]] = []
    with worktree(args.base) as (checkout, commit):
        for number in range(1, args.rounds + 1):
            figures = {}
            for side in SIDES:
                log(f"round {number}/{args.rounds}: {side}")
                source = checkout if side == "base" else None
                figures[side] = measure(db, source, options, args.walk_seconds, log_dir)
            rounds.append(figures)
    rendered = table(rounds, commit, f"{args.database} (N={args.meetings:,})")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {"argv": sys.argv, "base": commit, "rounds": rounds, "table": rendered}
    path = RESULTS_DIR / f"compare-{stamp}.json"
    path.write_text(json.dumps(document, indent=2))
    print(rendered)
    print(f"\n(results: bench/results/{path.name}; service logs: {log_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
