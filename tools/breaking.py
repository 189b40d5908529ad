"""`buf breaking` (FILE rules) of protos/ against an earlier commit (default: main's parent)."""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tools.protopaths import ROOT

BUF = Path(sys.executable).parent / "buf"


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)


def default_against() -> str:
    """The merge base with main, or, on main itself, the previous commit."""
    head = git("rev-parse", "HEAD").stdout.strip()
    main = git("rev-parse", "main").stdout.strip()
    if head and head != main:
        return git("merge-base", "HEAD", "main").stdout.decode().strip()
    return "HEAD~1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", default=None, help="git revision to compare with")
    args = parser.parse_args()
    against = args.against or default_against()
    archive = git("archive", "--format=tar", against, "protos", "buf.yaml")
    if archive.returncode != 0:
        print(f"buf breaking: nothing to compare with at {against}; skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        shutil.copytree(ROOT / ".protodeps", Path(tmp) / ".protodeps")
        result = subprocess.run([str(BUF), "breaking", "--against", tmp], cwd=ROOT, check=False)
    if result.returncode == 0:
        print(f"buf breaking: no breaking change against {against}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
