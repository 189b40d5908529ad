"""A bounded soak of `meetings serve` over loopback: mixed traffic for a fixed time while the
service's memory (RSS) and open file descriptors, summed over its processes (the parent and
one per tier), are sampled; no growth trend, no errors.

    python -m tests.reliability.soak --seconds 60 --malloc-arenas 2    # `make soak-ci`
    python -m tests.reliability.soak --seconds 600                     # `make soak`

Traffic, from --clients concurrent clients: unpaginated (streamed) exports, export pages,
upcoming pages, requests with bad tokens, and one client that keeps trying wrong access keys
(answered 401, then 429). Every response must be one of the expected statuses (200, 401, 429),
and the bodies of 200s must parse. After a warm-up (the first quarter of the run, at least
10 s), a straight line is fitted to the samples: RSS may not grow faster than --max-rss-slope
MB per minute, and open descriptors may not end more than --max-fd-growth above where they
began. Prints a summary and exits non-zero when a bound is broken.

--malloc-arenas caps glibc's malloc arenas in the service (MALLOC_ARENA_MAX). By default glibc
opens up to 8 a core as threads come and go, and each keeps what it has freed: RSS then climbs
for the first minutes in steps of a few MB, whenever the busiest moment so far happens. That
is the allocator, not the service holding more: the CI form caps the arenas so that one
minute's trend reads what the service holds, and the ten-minute form runs glibc as deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from tests.processes import cli_values, run_cli, serving_to_file

SECRET = "soak-test-secret-of-the-meetings-service-0123456789"
EXPECTED = frozenset({200, 401, 429})
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Tally:
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    unexpected: list[str] = field(default_factory=list)
    bytes: int = 0


@dataclass
class Sample:
    at: float
    rss_mb: float
    fds: int


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants: `meetings serve` is a parent with a process per tier."""
    found, index = [pid], 0
    while index < len(found):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{found[index]}/task").iterdir():
                with contextlib.suppress(OSError):
                    found += [int(child) for child in (task / "children").read_text().split()]
        index += 1
    return found


def sample(pid: int, started: float) -> Sample:
    """The resident memory and open descriptors of the whole service (every process of it)."""
    resident_pages = descriptors = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):  # a process that just went away
            with open(f"/proc/{member}/statm") as statm:
                pages = int(statm.read().split()[1])
            fds = len(os.listdir(f"/proc/{member}/fd"))
            resident_pages, descriptors = resident_pages + pages, descriptors + fds
    return Sample(time.monotonic() - started, resident_pages * PAGE_SIZE / 2**20, descriptors)


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of y over x."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


async def client(number: int, base: str, org: int, token: str, until: float, tally: Tally) -> None:
    rng = random.Random(number)
    good = {"Authorization": f"Bearer {token}"}
    export = f"{base}/api/v2/organizations/{org}/export_meetings"
    upcoming = f"{base}/api/v2/organizations/{org}/upcoming_meetings"
    kinds = ["stream", "page", "upcoming", "upcoming", "bad token", "post page"]
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for index in itertools.count():
            if time.monotonic() >= until:
                return
            kind = "wrong key" if number == 0 else kinds[(index + number) % len(kinds)]
            if kind == "stream":
                query = {"column[]": ["name", "start_time", "status", "price"]}
                request = session.get(export, params=query, headers=good)
            elif kind == "page":
                query = {"column[]": ["name", "host"], "page": str(rng.randint(1, 30))}
                request = session.get(export, params=query, headers=good)
            elif kind == "post page":
                body = {"column": ["name", "duration"], "per_page": "25", "page": rng.randint(1, 9)}
                request = session.post(export, json=body, headers=good)
            elif kind == "upcoming":
                query = {"page": str(rng.randint(1, 5)), "items": str(rng.choice([5, 20, 100]))}
                request = session.get(upcoming, params=query, headers=good)
            elif kind == "bad token":
                forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
                request = session.get(upcoming, headers={"Authorization": f"Bearer {forged}"})
            else:
                request = session.post(
                    f"{base}/api/v2/authenticate", json={"access_key": "wrong-key-of-24-chars-xx"}
                )
            try:
                async with request as response:
                    body = await response.read()
                    tally.requests += 1
                    tally.bytes += len(body)
                    tally.statuses[response.status] += 1
                    if response.status not in EXPECTED:
                        tally.unexpected.append(f"{kind}: {response.status} {body[:200]!r}")
                    elif response.status == 200:
                        orjson.loads(body)
                    if response.status == 429:
                        await asyncio.sleep(0.2)  # a client that at least reads Retry-After
            except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
                tally.requests += 1
                tally.unexpected.append(f"{kind}: {type(exc).__name__}: {exc}")


async def watch(pid: int, started: float, until: float, samples: list[Sample]) -> None:
    while time.monotonic() < until:
        samples.append(sample(pid, started))
        await asyncio.sleep(1.0)
    samples.append(sample(pid, started))


async def drive(
    base: str, pid: int, org: int, key: str, seconds: float, clients: int
) -> tuple[Tally, list[Sample]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/api/v2/authenticate", json={"access_key": key}) as response,
    ):
        token = (await response.json())["token"]
    tally, samples = Tally(), []
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        watch(pid, started, until, samples),
        *(client(number, base, org, token, until, tally) for number in range(clients)),
    )
    return tally, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--meetings", type=int, default=3000)
    # A minute of samples is noisy (the allocator breathes by a few MB even with its arenas
    # capped): the CI form bounds gross leaks, the ten-minute soak small ones.
    parser.add_argument("--max-rss-slope", type=float, default=15.0, help="MB per minute")
    parser.add_argument("--max-fd-growth", type=int, default=8)
    parser.add_argument("--malloc-arenas", type=int, help="MALLOC_ARENA_MAX for the service")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="meetings-soak-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'meetings.db'}"
        demo = run_cli("demo", "--database", url, "--meetings", str(args.meetings), "--seed", "5")
        if demo.returncode != 0:
            print(demo.stderr, file=sys.stderr)
            return 2
        values = cli_values(demo.stdout)
        org, key = int(values["organization_id"]), values["access_key"]
        env = {"MEETINGS_JWT_SECRET": SECRET}
        if args.malloc_arenas:
            env["MALLOC_ARENA_MAX"] = str(args.malloc_arenas)
        with serving_to_file(url, folder / "serve.log", env) as served:
            tally, samples = asyncio.run(
                drive(served.http_base, served.process.pid, org, key, args.seconds, args.clients)
            )
            served.process.terminate()
            exit_code = served.process.wait(timeout=60)

    steady = [s for s in samples if s.at >= max(10.0, args.seconds / 4)] or samples
    rss_slope = slope([(s.at / 60, s.rss_mb) for s in steady])
    quarter = max(1, len(steady) // 4)
    rss_growth = statistics.median(s.rss_mb for s in steady[-quarter:]) - statistics.median(
        s.rss_mb for s in steady[:quarter]
    )
    fd_growth = steady[-1].fds - steady[0].fds
    print("== soak summary")
    arenas = args.malloc_arenas or "glibc's default"
    print(
        f"duration: {args.seconds:.0f} s, clients: {args.clients}, meetings: {args.meetings}, "
        f"malloc arenas: {arenas}"
    )
    print(
        f"requests: {tally.requests} ({tally.requests / args.seconds:.0f}/s), {tally.bytes} bytes"
    )
    print("statuses seen: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
    print(
        f"memory (RSS): start {samples[0].rss_mb:.1f} MB, after warm-up {steady[0].rss_mb:.1f} "
        f"MB, end {samples[-1].rss_mb:.1f} MB, max {max(s.rss_mb for s in samples):.1f} MB; "
        f"trend after warm-up {rss_slope:+.2f} MB/min (bound {args.max_rss_slope}), "
        f"median of the last quarter vs the first {rss_growth:+.1f} MB"
    )
    print(
        f"open fds: start {samples[0].fds}, after warm-up {steady[0].fds}, end {samples[-1].fds}, "
        f"max {max(s.fds for s in samples)} (growth bound {args.max_fd_growth})"
    )
    print(f"service exit status after SIGTERM: {exit_code}")
    failures = []
    if tally.unexpected:
        failures.append(f"{len(tally.unexpected)} unexpected answers, e.g. {tally.unexpected[:3]}")
    if rss_slope > args.max_rss_slope:
        failures.append(f"memory grows {rss_slope:.2f} MB/min")
    if fd_growth > args.max_fd_growth:
        failures.append(f"open file descriptors grew by {fd_growth}")
    if exit_code != 0:
        failures.append(f"the service exited {exit_code}")
    if tally.statuses[200] == 0:
        failures.append("no request succeeded")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
