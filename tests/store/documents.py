"""Fixture documents and database snapshots shared by the store tests."""

from __future__ import annotations

from typing import Any

import peewee

from store.models import Meeting, MeetingSeries, Organization, Registration, User
from tests.records import meeting_record

ACME_KEY = "acme-access-key-24-chars"
assert len(ACME_KEY) == 24


def spec_document() -> dict[str, list[dict[str, Any]]]:
    """The example document of SPEC.md's Data section, with a real 24-character key."""
    return {
        "organizations": [
            {
                "id": 5,
                "name": "Acme",
                "access_key": ACME_KEY,
                "time_zone": "America/New_York",
                "eap": False,
                "hpc_organization_id": None,
            }
        ],
        "users": [
            {
                "id": 4501,
                "first_name": "Jane",
                "last_name": "Doe",
                "avatar_url": "https://assets.example.org/users/avatars/thumb/4501.png",
            }
        ],
        "meeting_series": [{"id": 412, "organization_id": 5}],
        "meetings": [meeting(9123)],
        "registrations": [{"meeting_id": 9123, "user_id": 4501, "status": "registered"}],
    }


def meeting(meeting_id: int, **changes: Any) -> dict[str, Any]:
    """The spec's example meeting under another id, with some values changed (or added)."""
    record = meeting_record(
        meeting_id,
        5,
        "2026-05-23T15:00:00+00:00",
        name="Morning Grief Support Circle",
        topic="Grief & Loss",
        meeting_description="A supportive space.",
        group_leader_id=4501,
        meeting_series_id=412,
    )
    record.update(changes)
    return record


def snapshot(db: peewee.Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every data table, in id order."""
    with db.connection_context():
        return {
            model.__name__: list(model.select().order_by(model.id).dicts())
            for model in (Organization, User, MeetingSeries, Meeting, Registration)
        }
