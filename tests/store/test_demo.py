from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import peewee
import pytest

from store.demo import DEMO_ORGANIZATION, HPC_ORGANIZATION, create_demo, database_is_empty
from store.models import Meeting, MeetingSeries, Organization, Registration, User
from store.organizations import create_organization, find_by_access_key
from tests.store.documents import snapshot

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def _seeded(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """What the seed decides: not the access keys (from `secrets`) nor registration ids (from
    the table's sequence, which a delete does not rewind on PostgreSQL)."""
    organizations = [{**row, "access_key_digest": None} for row in rows["Organization"]]
    registrations = [{**row, "id": None} for row in rows["Registration"]]
    return {**rows, "Organization": organizations, "Registration": registrations}


def _delete_everything(db: peewee.Database) -> None:
    with db.connection_context(), db.atomic():
        for model in (Registration, Meeting, MeetingSeries, Organization, User):
            model.delete().execute()


def test_create_demo_creates_the_requested_number_of_meetings(db: peewee.Database) -> None:
    organization_id, key = create_demo(300, progress=False, now=NOW)
    with db.connection_context():
        assert Meeting.select().count() == 300
        demo = Organization.get_by_id(organization_id)
        hpc = Organization.get_by_id(demo.hpc_organization_id)
        hpc_meetings = Meeting.select().where(Meeting.organization == hpc.id).count()
    assert (demo.name, demo.time_zone, demo.eap) == (DEMO_ORGANIZATION, "America/New_York", True)
    assert hpc.name == HPC_ORGANIZATION
    assert 0 < hpc_meetings < 300
    assert find_by_access_key(key).id == organization_id  # type: ignore[union-attr]


def test_create_demo_is_deterministic_for_a_seed(db: peewee.Database) -> None:
    create_demo(200, seed=11, progress=False, now=NOW)
    first = _seeded(snapshot(db))
    _delete_everything(db)
    create_demo(200, seed=11, progress=False, now=NOW)
    assert _seeded(snapshot(db)) == first
    _delete_everything(db)
    create_demo(200, seed=12, progress=False, now=NOW)
    assert _seeded(snapshot(db)) != first


def test_demo_data_is_varied_like_real_data(db: peewee.Database) -> None:
    create_demo(2000, progress=False, now=NOW)
    with db.connection_context():
        meetings = list(Meeting.select())
        users = list(User.select())
        registration_statuses = {r.status for r in Registration.select(Registration.status)}
    naive_now = NOW.replace(tzinfo=None)
    assert {m.status for m in meetings} == {"scheduled", "complete", "cancel"}
    # Mostly scheduled, as on the platform, which rarely marks a meeting complete.
    assert sum(m.status == "scheduled" for m in meetings) > len(meetings) / 2
    assert {m.meeting_type for m in meetings} == {"Group", "OneToOne"}
    assert {m.location for m in meetings} == {"heypeers", "zoom"}
    assert {m.price for m in meetings} == {None, Decimal(10), Decimal("12.5")}
    assert {m.duration for m in meetings} == {30, 45, 60, 90, 120}
    assert any(m.eap for m in meetings) and not all(m.eap for m in meetings)
    assert any(m.meeting_series_id for m in meetings)
    assert any(m.group_leader_id is None for m in meetings)
    assert all(m.end_time == m.start_time + timedelta(minutes=m.duration) for m in meetings)
    assert min(m.start_time for m in meetings) < naive_now - timedelta(days=500)
    assert naive_now + timedelta(days=60) < max(m.start_time for m in meetings)
    assert any(m.name == "Morning Grief Support Circle" for m in meetings)
    assert 40 <= len(users) <= 60
    assert any(u.last_name is None for u in users)
    assert any(u.avatar_url is None for u in users)
    assert registration_statuses == {"registered", "waitlisted", "cancelled"}


def test_create_demo_keeps_existing_data_and_takes_fresh_ids(db: peewee.Database) -> None:
    existing, existing_key = create_organization("Acme")
    organization_id, _ = create_demo(50, progress=False, now=NOW)
    assert organization_id > existing.id
    assert find_by_access_key(existing_key).id == existing.id  # type: ignore[union-attr]
    # Ids generated after the demo's explicit ones do not collide (PostgreSQL sequences).
    later, _ = create_organization("Later")
    assert later.id > organization_id


def test_database_is_empty_until_an_organization_exists(db: peewee.Database) -> None:
    assert database_is_empty()
    create_demo(10, progress=False, now=NOW)
    assert not database_is_empty()


def test_progress_bar_is_shown_only_when_asked(
    db: peewee.Database, capsys: pytest.CaptureFixture[str]
) -> None:
    create_demo(10, progress=False, now=NOW)
    assert "Demo data" not in capsys.readouterr().err
    create_demo(10, progress=True, now=NOW)
    assert "Demo data" in capsys.readouterr().err
