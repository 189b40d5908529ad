"""Schemathesis against the service's own OpenAPI document, every check on.

Runs `meetings serve` on loopback over a fresh demo database, gets a token, and points
schemathesis at GET /openapi.json with the token and the demo organization's id, so the
generated requests reach the real handlers rather than stopping at 401. Every check is on
(no 5xx, status codes, content types, headers and bodies as documented, negative data
refused, positive data accepted, auth enforced, undeclared methods answered 405 with Allow).

    python -m tests.reliability.fuzz --examples 300            # `make fuzz-ci`: >= 1000 cases
    python -m tests.reliability.fuzz --examples 3000           # `make fuzz`

The document states exactly what the gateway takes, so the run needs no excuses: the baseline
(tests/reliability/fuzz-baseline.json, schemathesis's format) is empty, and any failure fails
the run. It stays as the one place to record a known failure while its owner fixes it
(--baseline-update), and --baseline-prune drops entries a run no longer reproduces. Three things
the document cannot say are set here instead: deadline headers are pinned (a valid tiny one is
a 504 by design; tests/gateway/test_openapi_constraints.py holds their patterns to the
gateway), 413/414 count as rejections and as fair answers to valid data that does not fit the
size limits, and tests/reliability/fuzz_hooks.py applies the one rule across query parameters
(custom needs both dates). Prints the cases run and every status seen; exits non-zero on any
failure, or when fewer than --min-cases cases ran.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tests.processes import cli_values, run_cli, serving_to_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BASELINE = HERE / "fuzz-baseline.json"
SECRET = "fuzzing-secret-of-the-meetings-service-0123456789"
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
# The deadline every fuzzed request carries: generous, so no answer is a 504.
DEADLINE_SECONDS = 120


# A URL or a body past the gateway's size limits is refused (414, 413, both documented) before
# any value is read, however valid the values: a rejection of negative data, and an answer
# positive data may get too (a hundred long column keys do not fit in 8 KiB of URL).
_STATUS_RULES = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422",
                     "428", "429", "5xx"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "413", "414", "429", "5xx"]
"""


def _token(base: str, key: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v2/authenticate",
        data=json.dumps({"access_key": key}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["token"])


def _statuses(har_path: Path) -> collections.Counter[int]:
    if not har_path.exists():
        return collections.Counter()
    entries = json.loads(har_path.read_text()).get("log", {}).get("entries", [])
    return collections.Counter(int(entry["response"]["status"]) for entry in entries)


def run(
    examples: int,
    seed: int,
    min_cases: int,
    baseline: Sequence[str] = (),
    artifacts: Path | None = None,
) -> int:
    with tempfile.TemporaryDirectory(prefix="meetings-fuzz-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'meetings.db'}"
        demo = run_cli("demo", "--database", url, "--meetings", "500", "--seed", "3")
        if demo.returncode != 0:
            print(demo.stderr, file=sys.stderr)
            return 2
        values = cli_values(demo.stdout)
        org_id, key = values["organization_id"], values["access_key"]
        env = {
            "MEETINGS_JWT_SECRET": SECRET,
            # Brute-force protection would answer the fuzzer's wrong keys 429 after ten tries
            # and hide Authenticate from the rest of the run; it has tests of its own.
            "MEETINGS_AUTH_FAILURE_LIMIT": "0",
        }
        with serving_to_file(url, folder / "serve.log", env) as served:
            token = _token(served.http_base, key)
            config = folder / "schemathesis.toml"
            # The demo organization: requests for other ids only ever meet 401. Deadlines are
            # pinned: a valid tiny one is answered 504 by design (tests/reliability/
            # test_deadlines.py and tests/gateway/test_openapi_constraints.py cover them).
            config.write_text(
                "[parameters]\n"
                f'"path.organization_id" = {int(org_id)}\n'
                f'"header.X-Request-Timeout" = "{DEADLINE_SECONDS}"\n'
                f'"header.Grpc-Timeout" = "{DEADLINE_SECONDS}S"\n' + _STATUS_RULES
            )
            report, har = folder / "report.json", folder / "traffic.har"
            command = [
                SCHEMATHESIS,
                "--config-file",
                str(config),
                "run",
                f"{served.http_base}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(examples),
                "--seed",
                str(seed),
                "--continue-on-failure",
                "--header",
                f"Authorization: Bearer {token}",
                "--request-timeout",
                os.environ.get("FUZZ_REQUEST_TIMEOUT", "30"),
                "--report",
                "json,har",
                "--report-json-path",
                str(report),
                "--report-har-path",
                str(har),
                "--baseline",
                str(BASELINE),
                *baseline,
            ]
            started = time.monotonic()
            # Run in the scratch folder: schemathesis keeps a .schemathesis/ cache in its cwd.
            hooks = {
                "SCHEMATHESIS_HOOKS": "tests.reliability.fuzz_hooks",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
                ),
            }
            result = subprocess.run(
                command,
                text=True,
                capture_output=True,
                timeout=3600,
                cwd=folder,
                env={**os.environ, **hooks},
            )
            elapsed = time.monotonic() - started
            summary = json.loads(report.read_text()) if report.exists() else {}
            statuses = _statuses(har)
            if artifacts is not None:
                artifacts.mkdir(parents=True, exist_ok=True)
                for kept in (report, har, folder / "serve.log"):
                    if kept.exists():
                        shutil.copy(kept, artifacts / kept.name)
        print(result.stdout if os.environ.get("FUZZ_VERBOSE") else result.stdout[-6000:])
        if result.stderr.strip():
            print(result.stderr[-3000:], file=sys.stderr)
    cases = int(summary.get("test_cases", {}).get("generated", 0))
    print("== fuzz summary")
    print(f"cases generated: {cases} in {elapsed:.1f} s (seed {seed})")
    print(f"requests: {sum(statuses.values())}")
    print("statuses seen: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    print(f"5xx responses: {server_errors}")
    if cases < min_cases:
        print(f"FAIL: fewer than {min_cases} cases ran", file=sys.stderr)
        return 1
    if server_errors:
        print("FAIL: the service answered 5xx", file=sys.stderr)
        return 1
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="cases per operation")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    parser.add_argument("--min-cases", type=int, default=1000)
    parser.add_argument(
        "--baseline-update",
        "--update-baseline",
        action="store_true",
        help="merge this run's failures into the baseline file (they then stop failing runs)",
    )
    parser.add_argument(
        "--baseline-prune",
        action="store_true",
        help="drop the baseline entries this run tested and did not reproduce",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        help="keep the JSON report, the HAR of every request and the service's log here",
    )
    args = parser.parse_args(argv)
    baseline = [
        option
        for option, wanted in (
            ("--baseline-update", args.baseline_update),
            ("--baseline-prune", args.baseline_prune),
        )
        if wanted
    ]
    return run(args.examples, args.seed, args.min_cases, baseline, args.artifacts)


if __name__ == "__main__":
    sys.exit(main())
