"""Fixture records, as the loader takes them, that every suite builds its own from.

A suite names only what it cares about; every other key has the plain value here (nullable
values null, flags off), so a record always carries every key the loader knows.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def meeting_record(
    meeting_id: int, organization_id: int, start_time: str, /, **values: Any
) -> Record:
    """A meeting with every key; `values` must name known keys (and may replace any)."""
    record: Record = {
        "id": meeting_id,
        "organization_id": organization_id,
        "name": f"Meeting {meeting_id}",
        "meeting_type": "Group",
        "start_time": start_time,
        "duration": 60,
        "status": "scheduled",
        "topic": None,
        "special_focus": None,
        "host": "HeyPeers",
        "location": "heypeers",
        "price": None,
        "max_attendees": 12,
        "meeting_description": None,
        "group_leader_id": None,
        "privacy": False,
        "eap": False,
        "allow_meeting_donation": False,
        "invitation_only": False,
        "wait_list": False,
        "meeting_series_id": None,
    }
    unknown = set(values) - set(record)
    assert not unknown, f"not meeting keys: {unknown}"
    record.update(values)
    return record


def organization_record(
    org_id: int,
    *,
    name: str,
    access_key: str,
    time_zone: str = "America/New_York",
    eap: bool = False,
    hpc: int | None = None,
) -> Record:
    return {
        "id": org_id,
        "name": name,
        "access_key": access_key,
        "time_zone": time_zone,
        "eap": eap,
        "hpc_organization_id": hpc,
    }
