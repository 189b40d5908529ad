"""The README's recipe for a member's upcoming meetings, run as written (only the two
addresses change) in a directory laid out as the repository root is after `make run`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.partner.test_recipes import README, json_messages, section
from tests.processes import BIN, cli_values, run_cli, serving

HEADING = "### A member's upcoming meetings"
SECRET = {"MEETINGS_JWT_SECRET": "member-recipe-test-secret-0123456789abcdef"}


def recipe() -> str:
    text = section(README.read_text(encoding="utf-8"), HEADING)
    (block,) = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return str(block)


def test_the_member_recipe_runs_as_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meetings.db'}"  # `make run`'s file, beside its .demo-key
    demo = run_cli("demo", "--database", url, "--meetings", "400", env=SECRET)
    assert demo.returncode == 0, demo.stderr
    (tmp_path / ".venv").symlink_to(BIN.parent)
    script = recipe()
    assert f"IDP='{cli_values(demo.stdout)['member_idp_id']}'" in script
    with serving(url, SECRET) as served:
        script = script.replace("http://127.0.0.1:8080", served.http_base)
        script = script.replace("127.0.0.1:50051", served.grpc_target)
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k not in ("ORG", "KEY", "IDP", "TOKEN")},
        )
    assert result.returncode == 0, result.stderr
    rest, grpc = json_messages(result.stdout)
    assert rest["items"] == 5 and rest["total_items"] > 0, rest
    assert list(rest["meetings"][0])[-3:] == ["waiting_status", "registered", "registered_at"]
    assert int(grpc["total_items"]) == rest["total_items"]
    assert [int(m["meeting"]["id"]) for m in grpc["meetings"]] == [
        m["id"] for m in rest["meetings"]
    ]
