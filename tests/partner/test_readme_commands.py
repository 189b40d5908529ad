"""The README's shell blocks and the ready banner's commands, run as a newcomer pastes them:
in bash, at the repository root, in a fresh shell (no virtual environment on PATH, no KEY,
ORG or TOKEN set), against a served demo.

Only what ties a block to `make run` changes: the addresses (127.0.0.1:8080 and :50051 ->
the test service's ports) and the demo key file (meetings.db.demo-key -> the test demo's).
Every command must succeed (bash -e, pipefail), and every curl response must be a 2xx: curl
is found through a wrapper that records each response's status and fails on any other.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import BIN, run_cli, serving

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_HTTP = "127.0.0.1:8080"
README_GRPC = "127.0.0.1:50051"
README_DEMO_KEY = "meetings.db.demo-key"
SECRET = {"MEETINGS_JWT_SECRET": "readme-commands-test-secret-0123456789abc"}
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# Blocks not run, by (section heading, index of the shell block within it), and why.
EXCLUDED = {
    ("The two commands", 0): "make run serves until Ctrl-C, make test is this suite itself",
    ("Performance", 0): "benchmarks: minutes of load on a database of a million meetings",
}
BANNER_COMMANDS = re.compile(r"^Try it.*:\n((?:    .*\n)+)", re.MULTILINE)
# curl as a command (not `buf curl`, not grpcurl): what the wrapper must have seen.
CURL_CALL = re.compile(r"(?<![\w-])(?<!buf )curl\s")

CURL_WRAPPER = """#!/usr/bin/env bash
# curl as called, with each response's status recorded; a status other than 2xx fails.
headers=$(mktemp)
code=0
"$REAL_CURL" --dump-header "$headers" "$@" || code=$?
status=$(awk '/^HTTP\\//{s=$2} END{print s}' "$headers")
rm -f "$headers"
echo "$status" >> "$CURL_STATUS_LOG"
[ "$code" -eq 0 ] || exit "$code"
case "$status" in 2??) ;; *) echo "curl: HTTP $status" >&2; exit 22 ;; esac
"""


@dataclass(frozen=True)
class Block:
    section: str
    index: int  # among the section's shell blocks
    text: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.section, self.index)


def shell_blocks(markdown: str) -> list[Block]:
    """Every fenced block in a shell language, with the `## ` section it is in."""
    blocks: list[Block] = []
    section, counts = "", dict[str, int]()
    fence: str | None = None
    lines: list[str] = []
    for line in markdown.splitlines():
        if fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif fence is None and line.startswith("```"):
            fence, lines = line[3:].strip().lower(), []
        elif fence is not None and line.startswith("```"):
            if fence in SHELL_LANGUAGES:
                index = counts.get(section, 0)
                counts[section] = index + 1
                blocks.append(Block(section, index, "\n".join(lines) + "\n"))
            fence = None
        elif fence is not None:
            lines.append(line)
    return blocks


BLOCKS = shell_blocks(README.read_text(encoding="utf-8"))
RUN = [block for block in BLOCKS if block.key not in EXCLUDED]


@dataclass
class Demo:
    http: str
    grpc: str
    demo_key: Path
    banner: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("readme")
    url = f"sqlite:///{folder / 'meetings.db'}"
    created = run_cli("demo", "--database", url, "--meetings", "60", env=SECRET)
    assert created.returncode == 0, created.stderr
    with serving(url, SECRET, "--banner", stop_grace=15) as served:
        served.wait_for_output(re.compile(r"^Stop with Ctrl-C\.$", re.MULTILINE), timeout=30)
        yield Demo(
            http=f"127.0.0.1:{served.http_port}",
            grpc=served.grpc_target,
            demo_key=folder / "meetings.db.demo-key",
            banner=served.output(),
        )


@dataclass
class Ran:
    result: subprocess.CompletedProcess[str]
    statuses: list[str]  # of the curl responses, in order


def fresh_shell_environment() -> dict[str, str]:
    """os.environ as a new terminal has it: no virtual environment, no README variables."""
    venv_bins = {str(BIN), str(ROOT / ".venv" / "bin")}
    drop = {"VIRTUAL_ENV", "KEY", "ORG", "TOKEN", "CURL_STATUS_LOG", "REAL_CURL"}
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    path = os.environ.get("PATH", "").split(os.pathsep)
    environment["PATH"] = os.pathsep.join(p for p in path if p and p.rstrip("/") not in venv_bins)
    return environment


def run_pasted(script: str, folder: Path) -> Ran:
    """`script` in bash at the repository root, as if pasted into a fresh shell."""
    real_curl = shutil.which("curl")
    assert real_curl is not None, "the README's commands need curl"
    wrappers = folder / "bin"
    wrappers.mkdir(exist_ok=True)
    wrapper = wrappers / "curl"
    wrapper.write_text(CURL_WRAPPER)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    log = folder / "curl-statuses"
    log.write_text("")
    environment = fresh_shell_environment()
    environment.update(
        PATH=f"{wrappers}{os.pathsep}{environment['PATH']}",
        REAL_CURL=real_curl,
        CURL_STATUS_LOG=str(log),
    )
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Ran(result, log.read_text().split())


def check_ran(script: str, ran: Ran) -> None:
    result = ran.result
    report = f"{script}\nexit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.returncode == 0, report
    assert len(ran.statuses) == len(CURL_CALL.findall(script)), report
    assert all(s.startswith("2") and len(s) == 3 for s in ran.statuses), (ran.statuses, report)


def test_every_shell_block_is_run_or_excluded_with_a_reason() -> None:
    keys = {block.key for block in BLOCKS}
    assert set(EXCLUDED) <= keys, f"excluded blocks no longer in README: {set(EXCLUDED) - keys}"
    assert all(reason for reason in EXCLUDED.values())
    run = "".join(block.text for block in RUN)
    for program in ("curl ", "grpcurl ", "buf curl "):
        assert program in run, f"no {program.strip()} command is run"


@pytest.mark.parametrize("block", RUN, ids=[f"{b.section} #{b.index + 1}" for b in RUN])
def test_the_readme_block_runs_as_written(block: Block, demo: Demo, tmp_path: Path) -> None:
    script = (
        block.text.replace(README_HTTP, demo.http)
        .replace(README_GRPC, demo.grpc)
        .replace(README_DEMO_KEY, str(demo.demo_key))
    )
    check_ran(script, run_pasted(script, tmp_path))


def test_the_banners_commands_run_as_printed(demo: Demo, tmp_path: Path) -> None:
    found = BANNER_COMMANDS.search(demo.banner)
    assert found is not None, demo.banner
    script = found.group(1)
    assert "curl " in script and "grpcurl " in script, script
    for path in ("/docs", "/export"):
        assert f"http://{demo.http}{path}" in demo.banner
    check_ran(script, run_pasted(script, tmp_path))
