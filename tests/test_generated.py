"""generated/ matches protos/, and the check notices when it does not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.generate", "--check"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generated_code_is_up_to_date() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_when_a_proto_changes_without_regeneration(tmp_path: Path) -> None:
    for part in ("protos", "generated", "tools"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    proto = tmp_path / "protos/heypeers/meetings/v1/meetings_service.proto"
    proto.write_text(
        proto.read_text().replace(
            "message GroupLeader {", "message GroupLeader {\n  // A new field.\n  string title = 4;"
        )
    )
    result = check(tmp_path)
    assert result.returncode == 1
    assert "meetings_service_pb2.py" in result.stdout
