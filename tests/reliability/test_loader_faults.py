"""A fixture load that fails part way (a bad record, an interrupt, a killed process) leaves the
database exactly as it was."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import peewee
import pytest

from store.errors import FixtureError
from store.loader import load_fixture
from store.models import ALL_MODELS
from tests.export.conftest import document, meeting, organization, user

ROOT = Path(__file__).resolve().parents[2]


def first_document() -> dict[str, Any]:
    return document(
        [meeting(n, "2026-01-01T10:00:00+00:00", group_leader_id=1) for n in range(1, 201)],
        users=[user(1)],
    )


def second_document(meetings: int = 3000) -> dict[str, Any]:
    """Changes every record of the first and adds many more."""
    return document(
        [meeting(n, "2026-02-01T10:00:00+00:00", name=f"changed {n}") for n in range(1, meetings)],
        organizations=[organization(), organization(6, key="SecondOrganizationKey001")],
        users=[user(1), user(2)],
    )


def snapshot(db: peewee.Database) -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    with db.connection_context():
        for model in ALL_MODELS:
            for row in model.select().order_by(model._meta.primary_key).tuples():
                digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture
def loaded(db: peewee.Database) -> str:
    load_fixture(first_document())
    return snapshot(db)


def test_a_bad_last_record_leaves_the_database_unchanged(db: peewee.Database, loaded: str) -> None:
    bad = second_document()
    bad["meetings"].append(meeting(99999, "not a time"))
    with pytest.raises(FixtureError) as info:
        load_fixture(bad)
    assert (info.value.list_name, info.value.index) == ("meetings", len(bad["meetings"]) - 1)
    assert snapshot(db) == loaded


def test_a_record_the_database_refuses_leaves_it_unchanged(
    db: peewee.Database, loaded: str
) -> None:
    bad = second_document()
    bad["registrations"] = [{"meeting_id": 1, "user_id": 2, "status": "registered"}] * 2
    with pytest.raises(FixtureError):
        load_fixture(bad)
    assert snapshot(db) == loaded


def test_an_interrupted_load_leaves_the_database_unchanged(
    db: peewee.Database, loaded: str
) -> None:
    written = []

    def interrupt(count: int) -> None:
        written.append(count)
        if len(written) == 3:  # organizations, users, and some meetings are in
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_fixture(second_document(), progress=interrupt)
    assert snapshot(db) == loaded
    load_fixture(second_document())  # and the database takes the same load afterwards
    assert snapshot(db) != loaded


KILLED_LOAD = textwrap.dedent(
    """
    import os, signal, sys
    import orjson
    from store.database import open_database
    from store.loader import load_fixture

    open_database(sys.argv[1])
    document = orjson.loads(open(sys.argv[2], "rb").read())
    calls = []

    def kill(count):
        calls.append(count)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    load_fixture(document, progress=kill)
    """
)


def test_a_load_killed_mid_write_leaves_the_database_unchanged(
    db: peewee.Database, database_url: str, loaded: str, tmp_path: Path
) -> None:
    path = tmp_path / "second.json"
    path.write_bytes(orjson.dumps(second_document()))
    db.close()
    process = subprocess.run(
        [sys.executable, "-c", KILLED_LOAD, database_url, str(path)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]
    assert snapshot(db) == loaded
