"""The benchmark's measurements of pages asked out of order and of the feed under open-loop
load, and their rows of the table (bench.run calls both):

- pages out of order: for each preset, with and without report_type=eap_meetings, the median
  latency over the first, middle and last page of 20 (each asked several times, shuffled),
  beside the same for a narrow custom range: at most 3x that and at most 15 ms;
- 16 clients on page 1 of all_upcoming against 16 on page 1 of the narrow range: at least
  0.5x the requests;
- the walk of every page (per_page=100) against as many requests that read nothing: at most
  1.5x (its figures are bench.run's walk and floor);
- the feed through the gateway under Poisson arrivals over 32 connections for 20 s, at two
  rates per database: p99 under 10 ms at the lower and under 25 ms at the upper, no errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.service import cpu_by_role

PRESETS = (
    "all",
    "all_past",
    "all_upcoming",
    "today",
    "current_month",
    "last_week",
    "last_month",
    "custom",
)
PER_PAGE = 20
PAGE_RATIO, PAGE_MS = 3.0, 15.0
CLIENTS = 16
CLIENTS_RATIO = 0.5
WALK_RATIO = 1.5
# Feed rates (requests a second) and the p99 each must stay under, per database.
FEED_RATES = {
    "SQLite": ((600.0, 0.010), (900.0, 0.025)),
    "PostgreSQL": ((200.0, 0.010), (300.0, 0.025)),
}
FEED_SECONDS, FEED_CONNECTIONS = 20.0, 32
CPU_ROLES = ("gRPC", "gateway", "client")
# The feed's arrivals as a share of the requests/s it answered closed-loop in the same run.
RELATIVE_LOAD = 0.5
LEGACY_FORMAT = "%m/%d/%Y %I:%M %p"
# The custom preset's range: every meeting the builder makes.
WIDE_START, WIDE_END = "01/01/2000 12:00 AM", "12/31/2099 11:59 PM"


def run_sampler(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.samplers", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"sampler {args[0]} failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def narrow_range(now: datetime | None = None) -> tuple[str, str]:
    """A week, a year back: the narrow custom range the presets are held against."""
    end = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    end -= timedelta(days=365)
    return (end - timedelta(days=7)).strftime(LEGACY_FORMAT), end.strftime(LEGACY_FORMAT)


def export_path(org: int, preset: str, *, eap: bool = False, narrow: bool = False) -> str:
    """The export's path and query of a preset (no page): name and start_time, 20 a page."""
    params = [("column[]", "name"), ("column[]", "start_time"), ("per_page", str(PER_PAGE))]
    params.append(("reporting_days", preset))
    if preset == "custom":
        start, end = narrow_range() if narrow else (WIDE_START, WIDE_END)
        params += [("start_time", start), ("end_time", end)]
    if eap:
        params.append(("report_type", "eap_meetings"))
    return f"/api/v2/organizations/{org}/export_meetings?{urlencode(params)}"


def measure_pages(base: str, token: str, org: int, repeats: int) -> dict[str, Any]:
    """Every preset's pages out of order, and the narrow range's, on the running service."""
    common = ["--target", base, "--token", token, "--repeats", str(repeats)]
    result: dict[str, Any] = {
        "narrow": run_sampler("pages", *common, "--path", export_path(org, "custom", narrow=True))
    }
    for preset in PRESETS:
        for eap in (False, True):
            path = export_path(org, preset, eap=eap)
            result[preset + (" eap" if eap else "")] = run_sampler("pages", *common, "--path", path)
    return result


def measure_feed(
    url: str, token: str, label: str, quick: bool, service_pid: int, rates: int = 2
) -> list[dict[str, Any]]:
    """`url` at each of the database's feed rates (the first `rates` of them)."""
    return [
        poisson_run(url, token, rate, quick, service_pid) for rate, _ in FEED_RATES[label][:rates]
    ]


def poisson_run(url: str, token: str, rate: float, quick: bool, service_pid: int) -> dict[str, Any]:
    """`url` under Poisson arrivals at `rate` (20 s, 3 s when quick), with the CPU time each
    process spent a request meanwhile: the service's gRPC server and gateway (`service_pid` is
    `meetings serve`), and the client's own."""
    seconds = 3.0 if quick else FEED_SECONDS
    args = ["--target", url, "--token", token, "--rate", f"{max(rate, 1.0):.0f}"]
    args += ["--connections", str(FEED_CONNECTIONS), "--seconds", str(seconds)]
    before = cpu_by_role(service_pid)
    run = run_sampler("poisson", *args)
    after = cpu_by_role(service_pid)
    count = max(run["requests"], 1)
    spent = {role: after[role] - before.get(role, 0.0) for role in after}
    spent["client"] = run["client_cpu_seconds"]
    run["cpu_ms_per_request"] = {role: 1000 * value / count for role, value in spent.items()}
    return run


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _verdict(ok: bool) -> str:
    return "holds" if ok else "MISSES"


def rows(
    results: list[dict[str, Any]], verdicts: dict[str, Any]
) -> list[tuple[str, list[str], str]]:
    """The table's rows of these targets (name, one cell per database, target); fills in
    `verdicts` per database."""
    found: list[tuple[str, list[str], str]] = []
    found.append(
        (
            f"pages out of order (per_page={PER_PAGE}): narrow custom range",
            [f"median {_ms(r['out_of_order']['narrow']['median_seconds'])}" for r in results],
            "",
        )
    )
    for preset in PRESETS:
        cells = []
        for r in results:
            narrow = r["out_of_order"]["narrow"]["median_seconds"]
            parts, ok = [], True
            for key in (preset, preset + " eap"):
                median = r["out_of_order"][key]["median_seconds"]
                ratio = median / narrow
                holds = ratio <= PAGE_RATIO and median * 1000 <= PAGE_MS
                ok = ok and holds
                verdicts[r["database"]].setdefault("pages_out_of_order", {})[key] = {
                    "median_seconds": median,
                    "ratio": ratio,
                    "holds": holds,
                }
                parts.append(f"{_ms(median)} ({ratio:.1f}x)")
            cells.append(f"{parts[0]}, EAP {parts[1]} {_verdict(ok)}")
        found.append((f"  {preset}", cells, f"<= {PAGE_RATIO:g}x, <= {PAGE_MS:g} ms"))
    cells = []
    for r in results:
        upcoming, narrow = r["clients"]["all_upcoming"], r["clients"]["narrow"]
        ratio = upcoming["requests_per_second"] / narrow["requests_per_second"]
        verdicts[r["database"]]["clients_all_upcoming"] = {"ratio": ratio, "holds": ratio >= 0.5}
        cells.append(
            f"{upcoming['requests_per_second']:,.0f} / {narrow['requests_per_second']:,.0f} "
            f"req/s ({ratio:.2f}x) {_verdict(ratio >= CLIENTS_RATIO)}"
        )
    found.append(
        (f"{CLIENTS} clients, page 1: all_upcoming / narrow", cells, f">= {CLIENTS_RATIO:g}x")
    )
    for key, name in (("pages", "custom range"), ("default_pages", "all")):
        cells = []
        for r in results:
            walk, floor = r[key]["seconds"], r["round_trips"]["http_grpc"]["seconds"]
            ratio = walk / floor
            verdicts[r["database"]][f"walk_vs_floor_{key}"] = {
                "ratio": ratio,
                "holds": ratio <= WALK_RATIO,
            }
            cells.append(f"{walk:.1f} s / {floor:.1f} s ({ratio:.2f}x) {_verdict(ratio <= 1.5)}")
        found.append((f"walk of every page ({name}) / floor", cells, f"<= {WALK_RATIO:g}x"))
    for index in range(2):
        cells, targets = [], []
        for r in results:
            rate, limit = FEED_RATES[r["database"]][index]
            run = r["feed_poisson"][index]
            ok = run["p99_seconds"] is not None and run["p99_seconds"] < limit
            ok = ok and not run["errors"]
            verdicts[r["database"]][f"feed_poisson_{rate:g}"] = {
                "p99_seconds": run["p99_seconds"],
                "errors": run["errors"],
                "holds": ok,
            }
            cells.append(
                f"{rate:g}/s: p50 {_ms(run['p50_seconds'])}, p99 {_ms(run['p99_seconds'])}, "
                f"{run['errors']} errors {_verdict(ok)}"
            )
            targets.append(f"{rate:g}/s p99 < {limit * 1000:g} ms")
        found.append(
            (
                f"feed via gateway, Poisson arrivals ({FEED_CONNECTIONS} conn., "
                f"{FEED_SECONDS:g} s)",
                cells,
                "; ".join(dict.fromkeys(targets)),
            )
        )
    found.append(_relative_row(results))
    found.append(_member_poisson_row(results))
    cells = []
    for r in results:
        run = r["readyz_poisson"][0]
        cells.append(
            f"{run['rate']:g}/s: p50 {_ms(run['p50_seconds'])}, p99 {_ms(run['p99_seconds'])}"
        )
    found.append(("  floor: /readyz (no database), the same arrivals", cells, ""))
    found.extend(_cpu_rows(results))
    return found


def _cpu_rows(results: list[dict[str, Any]]) -> list[tuple[str, list[str], str]]:
    """The CPU each process spent a request at the lower rate, for the feed and for /readyz
    (which reads nothing): what the rates ask less of, beside its floor."""
    found = []
    for key, name in (("feed_poisson", "a feed request"), ("readyz_poisson", "a /readyz")):
        cells = []
        for r in results:
            run = r[key][0]
            spent = run.get("cpu_ms_per_request", {})
            shown = [f"{role} {spent[role]:.2f}" for role in CPU_ROLES if role in spent]
            total = sum(spent.get(role, 0.0) for role in CPU_ROLES)
            cells.append(f"{run['rate']:g}/s: {', '.join(shown)}; {total:.2f} ms in all")
        found.append((f"  CPU {name}: gRPC, gateway, client", cells, ""))
    return found


def _relative_row(results: list[dict[str, Any]]) -> tuple[str, list[str], str]:
    """The feed at a share of what the service answered closed-loop in the same run: a rate
    that means the same load on any machine (no target; for the targets' next revision)."""
    cells = []
    for r in results:
        run = r["feed_poisson_relative"]
        cells.append(
            f"{run['rate']:.0f}/s: p50 {_ms(run['p50_seconds'])}, p99 {_ms(run['p99_seconds'])}, "
            f"{run['errors']} errors"
        )
    share = f"{RELATIVE_LOAD:.0%}"
    return (f"  the same at {share} of the closed-loop rate (wrk, above)", cells, "")


def _member_poisson_row(results: list[dict[str, Any]]) -> tuple[str, list[str], str]:
    """A member's first page of 10 at the feed's rates, beside the feed (no target of its own)."""
    cells = []
    for r in results:
        runs = r["member_poisson"]
        cells.append(
            "; ".join(
                f"{run['rate']:g}/s: p50 {_ms(run['p50_seconds'])}, p99 {_ms(run['p99_seconds'])}, "
                f"{run['errors']} errors"
                for run in runs
            )
        )
    return ("  member's upcoming (page of 10), the same arrivals", cells, "")
