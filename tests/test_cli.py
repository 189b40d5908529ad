"""The `meetings` command as a user runs it: real processes, real clients over loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.processes import GRPCURL, cli_values, run_cli, serving
from tests.store.documents import spec_document

SECRET = {"MEETINGS_JWT_SECRET": "process-test-secret-0123456789abcdef0123"}

SPEC_FIXTURE = spec_document()


def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_org_create_then_serve_answers_both_apis_and_stops_on_sigterm(database_url: str) -> None:
    created = run_cli(
        "org", "create", "Acme", "--database", database_url, "--time-zone", "America/New_York"
    )
    assert created.returncode == 0, created.stderr
    values = cli_values(created.stdout)
    org_id, key = int(values["organization_id"]), values["access_key"]
    assert len(key) == 24

    with serving(database_url, SECRET) as served:
        status, body = post_json(f"{served.http_base}/api/v2/authenticate", {"access_key": key})
        assert status == 200 and body["token"].count(".") == 2
        status, body = post_json(f"{served.http_base}/api/v2/authenticate", {"access_key": "no"})
        assert (status, body) == (401, {"error": "Invalid Access Key"})

        listed = subprocess.run(
            [GRPCURL, "-plaintext", served.grpc_target, "list"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert listed.returncode == 0, listed.stderr
        assert set(listed.stdout.split()) >= {
            "heypeers.meetings.v1.MeetingsService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        }
        described = subprocess.run(
            [
                GRPCURL,
                "-plaintext",
                served.grpc_target,
                "describe",
                "heypeers.meetings.v1.ExportMeetingsRequest",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "repeated .heypeers.meetings.v1.ExportColumn columns" in described.stdout
        authenticated = subprocess.run(
            [
                GRPCURL,
                "-plaintext",
                "-d",
                json.dumps({"access_key": key}),
                served.grpc_target,
                "heypeers.meetings.v1.MeetingsService/Authenticate",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert json.loads(authenticated.stdout)["organization_id"] == str(org_id)

        with grpc.insecure_channel(served.grpc_target) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING

        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=30) == 0
        assert served.process.stdout is not None
        assert "meetings: stopped" in served.process.stdout.read()


def test_tokens_survive_a_restart_without_a_configured_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laptop.db'}"
    key = cli_values(run_cli("org", "create", "Acme", "--database", url).stdout)["access_key"]
    with serving(url) as first:
        _, body = post_json(f"{first.http_base}/api/v2/authenticate", {"access_key": key})
        token = body["token"]
    assert (tmp_path / "laptop.db.jwt-secret").exists()
    with serving(url) as second:
        request = urllib.request.Request(
            f"{second.http_base}/api/v2/organizations/999/upcoming_meetings",
            headers={"Authorization": f"Bearer {token}"},
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        # Another organization's URL: the token was read, so it is "Not Authorized".
        assert json.loads(info.value.read()) == {"error": "Not Authorized"}


def test_load_is_idempotent_and_names_a_bad_record(database_url: str, tmp_path: Path) -> None:
    good = tmp_path / "fixture.json"
    good.write_text(json.dumps(SPEC_FIXTURE))
    for _ in range(2):
        loaded = run_cli("load", str(good), "--database", database_url)
        assert loaded.returncode == 0, loaded.stderr
    bad_document = json.loads(json.dumps(SPEC_FIXTURE))
    bad_document["meetings"][0]["status"] = "postponed"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_document))
    rejected = run_cli("load", str(bad), "--database", database_url)
    assert rejected.returncode != 0
    assert "meetings[0]" in rejected.stderr and "status" in rejected.stderr


def test_demo_prints_an_organization_and_a_key_that_authenticates(database_url: str) -> None:
    demo = run_cli("demo", "--database", database_url, "--meetings", "300")
    assert demo.returncode == 0, demo.stderr
    values = cli_values(demo.stdout)
    assert int(values["organization_id"]) > 0 and len(values["access_key"]) == 24
    again = run_cli("demo", "--database", database_url, "--if-empty")
    assert "nothing created" in again.stdout
    with serving(database_url, SECRET) as served:
        status, _ = post_json(
            f"{served.http_base}/api/v2/authenticate", {"access_key": values["access_key"]}
        )
        assert status == 200


def test_rotate_key_replaces_the_key(database_url: str) -> None:
    values = cli_values(run_cli("org", "create", "Acme", "--database", database_url).stdout)
    rotated = run_cli("org", "rotate-key", values["organization_id"], "--database", database_url)
    new_key = cli_values(rotated.stdout)["access_key"]
    assert new_key != values["access_key"]
    with serving(database_url, SECRET) as served:
        old, _ = post_json(
            f"{served.http_base}/api/v2/authenticate", {"access_key": values["access_key"]}
        )
        new, _ = post_json(f"{served.http_base}/api/v2/authenticate", {"access_key": new_key})
        assert (old, new) == (401, 200)
    missing = run_cli("org", "rotate-key", "424242", "--database", database_url)
    assert missing.returncode != 0 and "424242" in missing.stderr
