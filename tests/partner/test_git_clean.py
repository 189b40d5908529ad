"""Nothing the service writes shows up in `git status`: `make run` at the repository root must
not leave the signing secret or the demo key where `git add .` would commit them.

The CLI's writing commands run with the repository root as working directory, as `make run`
runs them, on a database name of the test's own (so a developer's meetings.db is never
touched); what they leave is removed by name afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import cli_values, run_cli, serving

ROOT = Path(__file__).resolve().parents[2]
# `make run`'s database and what the service keeps beside it, and the secret file of a
# non-SQLite URL (MEETINGS_JWT_SECRET_FILE's default), all relative to the working directory.
MAKE_RUN_FILES = (
    "meetings.db",
    "meetings.db-wal",
    "meetings.db-shm",
    "meetings.db-journal",
    "meetings.db.jwt-secret",
    "meetings.db.demo-key",
    "meetings.jwt-secret",
)
# What a test run (`make test`) keeps in the working directory: pytest's and hypothesis's caches.
MAKE_TEST_FILES = (".pytest_cache/README.md", ".hypothesis/unicode_data/15.0.0/charmap.json.gz")


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
    )


def _untracked_or_changed() -> set[str]:
    status = _git("status", "--porcelain", "--untracked-files=all")
    assert status.returncode == 0, status.stderr
    return set(status.stdout.splitlines())


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The repository root as working directory, and a database name there that is the
    test's alone; yields its sqlite URL and removes every file named after it afterwards."""
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git work tree (an unpacked archive): no git status to keep clean")
    monkeypatch.chdir(ROOT)
    # MEETINGS_JWT_SECRET would keep the service from writing its secret file.
    monkeypatch.delenv("MEETINGS_JWT_SECRET", raising=False)
    monkeypatch.delenv("MEETINGS_JWT_SECRET_FILE", raising=False)
    stem = f"meetings-git-clean-{os.getpid()}.db"
    yield f"sqlite:///{stem}"
    for leftover in ROOT.glob(stem + "*"):
        leftover.unlink()


@pytest.mark.parametrize("written", [MAKE_RUN_FILES, MAKE_TEST_FILES], ids=["run", "test"])
def test_what_make_run_and_make_test_write_is_ignored(written: tuple[str, ...]) -> None:
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git work tree (an unpacked archive): nothing to ignore")
    ignored = _git("check-ignore", "--no-index", *written).stdout.split()
    assert sorted(ignored) == sorted(written)


def test_the_cli_leaves_git_status_as_it_was(at_root: str) -> None:
    before = _untracked_or_changed()
    demo = run_cli("demo", "--database", at_root, "--meetings", "20", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    organization = cli_values(demo.stdout)["organization_id"]
    # A clean stop: the parent stops its tiers, which would otherwise outlive a SIGKILL for
    # a moment and open the database again after it is removed.
    with serving(at_root, None, "--banner", stop_grace=15) as served:
        served.wait_for_output(re.compile("Meetings API is ready"), timeout=30)
        with urllib.request.urlopen(served.http_base + "/readyz", timeout=10) as response:
            assert response.status == 200
    for args in (("org", "create", "Git Clean"), ("org", "rotate-key", organization)):
        result = run_cli(*args, "--database", at_root)
        assert result.returncode == 0, f"{args}: {result.stderr}"
    database = at_root.removeprefix("sqlite:///")
    written = {path.name for path in ROOT.glob(database + "*")}
    # The secret and the demo key were written here, so the check below is not vacuous.
    assert {database + ".jwt-secret", database + ".demo-key"} <= written
    assert _untracked_or_changed() - before == set()
