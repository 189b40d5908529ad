"""Every grpcurl and buf curl recipe of the README, run as written with the real binaries
against a real `meetings serve`, so the README stays true.

The recipes are read from the README's "Calling the gRPC API" section at collection time;
only the address (127.0.0.1:50051 -> the test server's port) and the program (-> .venv/bin)
change. $KEY, $TOKEN, $ORG and $IDP are set in the shell's environment, as a reader would set
them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.routes import SERVICE
from tests.processes import BIN, cli_values, run_cli, serving

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Calling the gRPC API"
README_ADDRESS = "127.0.0.1:50051"
PROGRAMS = {"grpcurl": str(BIN / "grpcurl"), "buf": str(BIN / "buf")}
SECRET = {"MEETINGS_JWT_SECRET": "recipes-test-secret-0123456789abcdef0123"}


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start : following if following != -1 else len(text)]


def shell_commands(markdown: str) -> list[str]:
    """The commands of the ```sh blocks, continuation lines joined."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL):
        current = ""
        for line in block.splitlines():
            text = line.strip()
            if text.endswith("\\"):
                current += text[:-1].rstrip() + " "
                continue
            current += text
            if current and not current.startswith("#"):
                commands.append(current)
            current = ""
    return commands


def readme_recipes() -> list[str]:
    commands = shell_commands(section(README.read_text(encoding="utf-8"), SECTION))
    # The README names the tools where `make install` puts them.
    commands = [c.removeprefix(".venv/bin/") for c in commands]
    return [c for c in commands if c.startswith(("grpcurl ", "buf curl "))]


RECIPES = readme_recipes()


def recipe_id(recipe: str) -> str:
    """`grpcurl list`, `buf curl MeetingsService/Authenticate`, ..."""
    program = "buf curl" if recipe.startswith("buf curl") else "grpcurl"
    call = recipe.rpartition(README_ADDRESS)[2].strip().lstrip("/")
    return f"{program} {call.replace('heypeers.meetings.v1.', '')}"


def called_method(recipe: str) -> str | None:
    """The full method a recipe calls (package.Service/Method), if it calls one."""
    found = re.search(r"(?:^|[\s/])([a-z][\w.]*\.[A-Z]\w*/[A-Z]\w*)\s*$", recipe)
    return found.group(1) if found else None


# --- what each recipe must print ---------------------------------------------------------------


@dataclass
class Account:
    org: int
    key: str
    token: str
    idp: str = ""


def json_messages(output: str) -> list[dict[str, Any]]:
    """The JSON objects a client printed one after the other (one per streamed message)."""
    decoder = json.JSONDecoder()
    messages, position = [], 0
    text = output.strip()
    while position < len(text):
        message, end = decoder.raw_decode(text, position)
        messages.append(message)
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return messages


def _field(message: dict[str, Any], snake: str) -> Any:
    # grpcurl prints proto names, buf curl the JSON names.
    camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), snake)
    return message.get(snake, message.get(camel))


def expect_list(output: str, account: Account) -> None:
    assert {SERVICE.full_name, "grpc.health.v1.Health"} <= set(output.split())


def expect_describe(output: str, account: Account) -> None:
    for method in SERVICE.methods:
        assert f"rpc {method.name}" in output, method.name


def expect_token(output: str, account: Account) -> None:
    (message,) = json_messages(output)
    assert str(message["token"]).count(".") == 2
    assert int(_field(message, "organization_id")) == account.org


def expect_upcoming(output: str, account: Account) -> None:
    (message,) = json_messages(output)
    assert int(_field(message, "current_page")) == 1
    assert message["meetings"] and all("name" in meeting for meeting in message["meetings"])


def expect_member_upcoming(output: str, account: Account) -> None:
    (message,) = json_messages(output)
    assert int(_field(message, "current_page")) == 1 and int(message["items"]) == 5
    for meeting in message.get("meetings", []):
        assert "name" in meeting["meeting"]
        assert _field(meeting, "registration_state").startswith("REGISTRATION_STATE_")


def expect_export(output: str, account: Account) -> None:
    messages = json_messages(output)
    rows = [row for message in messages for row in message.get("meetings", [])]
    assert rows, output
    assert all(set(row) <= {"name", "startTime", "start_time", "status"} for row in rows)


def expect_serving(output: str, account: Account) -> None:
    assert json_messages(output) == [{"status": "SERVING"}]


EXPECTATIONS: dict[str, Callable[[str, Account], None]] = {
    "list": expect_list,
    "describe": expect_describe,
    f"{SERVICE.full_name}/Authenticate": expect_token,
    f"{SERVICE.full_name}/ListUpcomingMeetings": expect_upcoming,
    f"{SERVICE.full_name}/ListMemberUpcomingMeetings": expect_member_upcoming,
    f"{SERVICE.full_name}/ExportMeetings": expect_export,
    f"{SERVICE.full_name}/StreamExportMeetings": expect_export,
    "grpc.health.v1.Health/Check": expect_serving,
}


def expectation(recipe: str) -> Callable[[str, Account], None]:
    method = called_method(recipe)
    if method is not None:
        return EXPECTATIONS[method]
    words = recipe.split()
    return EXPECTATIONS["describe" if "describe" in words else "list"]


# --- the server, with demo data ------------------------------------------------------------


@dataclass
class Running:
    grpc_target: str
    account: Account


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    url = f"sqlite:///{tmp_path_factory.mktemp('recipes') / 'meetings.db'}"
    demo = run_cli("demo", "--database", url, "--meetings", "60", env=SECRET)
    assert demo.returncode == 0, demo.stderr
    values = cli_values(demo.stdout)
    org, key, idp = int(values["organization_id"]), values["access_key"], values["member_idp_id"]
    with serving(url, SECRET) as served:
        # $TOKEN is needed by recipes in any order, so it is minted here, the same way.
        token = json_messages(
            run_recipe(
                f'grpcurl -plaintext -d "{{\\"access_key\\": \\"$KEY\\"}}" {README_ADDRESS} '
                f"{SERVICE.full_name}/Authenticate",
                served.grpc_target,
                Account(org, key, ""),
            ).stdout
        )[0]["token"]
        yield Running(served.grpc_target, Account(org, key, token, idp))


def run_recipe(recipe: str, target: str, account: Account) -> subprocess.CompletedProcess[str]:
    program, _, rest = recipe.partition(" ")
    command = PROGRAMS[program] + " " + rest.replace(README_ADDRESS, target)
    environment = {
        **os.environ,
        "KEY": account.key,
        "TOKEN": account.token,
        "ORG": str(account.org),
        "IDP": account.idp,
    }
    return subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


# --- the tests -----------------------------------------------------------------------------


def test_the_readme_has_recipes() -> None:
    assert len(RECIPES) >= 5
    assert all(README_ADDRESS in recipe for recipe in RECIPES)


def test_every_rpc_has_a_grpcurl_and_a_buf_curl_recipe() -> None:
    for program in ("grpcurl", "buf curl"):
        covered = {called_method(r) for r in RECIPES if r.startswith(program + " ")}
        missing = [
            m.name for m in SERVICE.methods if f"{SERVICE.full_name}/{m.name}" not in covered
        ]
        assert not missing, f"README: no {program} recipe for {', '.join(missing)}"


@pytest.mark.parametrize("recipe", RECIPES, ids=[recipe_id(r) for r in RECIPES])
def test_recipe_runs_and_prints_what_it_should(recipe: str, running: Running) -> None:
    check = expectation(recipe)  # a KeyError: a new kind of recipe needs an expectation here
    result = run_recipe(recipe, running.grpc_target, running.account)
    assert result.returncode == 0, f"{recipe}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    check(result.stdout, running.account)
