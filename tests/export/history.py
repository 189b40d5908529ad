"""A long history for the export's page tests: two organizations, years of meetings mostly in
the past, statuses and EAP flags mixed, meetings sharing a start, one long meeting, written
with the store's own insert (so meeting_day's triggers count them), and the export's filters
computed again in Python, row by row, to check the store against."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from store.export import ExportFilter
from store.loader import load_fixture
from store.models import Meeting, MeetingSeries
from tests.export.conftest import ORG_ID, document, organization

EAP_ID = ORG_ID + 1
# A series of ORG_ID holding every third of its meetings.
SERIES_ID = 1
# Just after midnight: meetings of the day before are still going on.
NOW = datetime(2026, 5, 20, 0, 40, 30, tzinfo=UTC)
DAYS_BEFORE, DAYS_AFTER = 1500, 60
DURATIONS = (30, 45, 60, 90, 120, 50)


@dataclass(frozen=True)
class Stored:
    organization_id: int
    id: int
    start: datetime  # naive UTC
    end: datetime
    status: str
    eap: bool


def _rows() -> list[dict[str, Any]]:
    rows = []
    first = NOW.replace(tzinfo=None, hour=0, minute=0, second=0) - timedelta(days=DAYS_BEFORE)
    hours = (DAYS_BEFORE + DAYS_AFTER) * 24
    meeting_id = 0
    for organization_id, every in ((ORG_ID, 2), (EAP_ID, 9)):
        for n in range(hours // every):
            start = first + timedelta(hours=n * every, minutes=(n % 3) * 7)
            twins = 2 if n % 13 == 0 else 1  # meetings sharing a start: ordered by id
            for _ in range(twins):
                meeting_id += 1
                duration = DURATIONS[n % len(DURATIONS)]
                if organization_id == EAP_ID and n % 500 == 0:
                    duration = 3 * 24 * 60  # a three-day meeting: a long window
                status = "complete" if n % 7 == 0 else "cancel" if n % 11 == 0 else "scheduled"
                rows.append(
                    {
                        "id": meeting_id,
                        "organization": organization_id,
                        "name": f"m{meeting_id}",
                        "start_time": start,
                        "duration": duration,
                        "end_time": start + timedelta(minutes=duration),
                        "status": status,
                        "eap": n % 5 == 0,
                        "meeting_series": SERIES_ID
                        if organization_id == ORG_ID and n % 3 == 0
                        else None,
                    }
                )
    now = NOW.replace(tzinfo=None)
    # Going on at NOW though they started on an earlier day (scheduled, so upcoming; one
    # complete, so in `all`), and one that ended exactly at NOW.
    for organization_id, started, duration, status in (
        (ORG_ID, now - timedelta(minutes=100), 120, "scheduled"),
        (ORG_ID, now - timedelta(minutes=110), 110, "scheduled"),
        (EAP_ID, now - timedelta(days=2, hours=3), 3 * 24 * 60, "scheduled"),
        (EAP_ID, now - timedelta(days=1, hours=1), 3 * 24 * 60, "complete"),
    ):
        meeting_id += 1
        rows.append(
            {
                "id": meeting_id,
                "organization": organization_id,
                "name": f"m{meeting_id}",
                "start_time": started,
                "duration": duration,
                "end_time": started + timedelta(minutes=duration),
                "status": status,
                "eap": meeting_id % 2 == 0,
                "meeting_series": None,
            }
        )
    return rows


def load_history(db: peewee.Database) -> list[Stored]:
    """Both organizations and their meetings; returns every meeting as stored."""
    load_fixture(
        document([], organizations=[organization(ORG_ID), organization(EAP_ID, key="Eap" * 8)])
    )
    rows = _rows()
    with db.connection_context(), db.atomic():
        MeetingSeries.insert(id=SERIES_ID, organization=ORG_ID).execute()
        for chunk in range(0, len(rows), 500):
            Meeting.insert_many(rows[chunk : chunk + 500]).execute()
        if isinstance(db, peewee.PostgresqlDatabase):
            db.execute_sql("ANALYZE meeting")  # type: ignore[no-untyped-call]
        else:
            db.execute_sql("ANALYZE")  # type: ignore[no-untyped-call]
    return [
        Stored(
            row["organization"],
            row["id"],
            row["start_time"],
            row["end_time"],
            row["status"],
            row["eap"],
        )
        for row in rows
    ]


def naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def matches(selected: ExportFilter, meeting: Stored) -> bool:
    """The filter's definition, row by row (store.export.filters.ExportFilter)."""
    if meeting.organization_id not in selected.organization_ids:
        return False
    if selected.eap_only and not meeting.eap:
        return False
    past = naive(selected.ended_or_complete_at)
    if past is not None and not (meeting.end <= past or meeting.status == "complete"):
        return False
    upcoming = naive(selected.upcoming_at)
    if upcoming is not None and not (
        meeting.end > upcoming and meeting.status not in ("cancel", "complete")
    ):
        return False
    low, before, until = (
        naive(selected.starts_from),
        naive(selected.starts_before),
        naive(selected.starts_until),
    )
    if low is not None and meeting.start < low:
        return False
    if before is not None and meeting.start >= before:
        return False
    return until is None or meeting.start <= until


def expected_ids(selected: ExportFilter, stored: list[Stored]) -> list[int]:
    chosen = sorted((m.start, m.id) for m in stored if matches(selected, m))
    return [meeting_id for _, meeting_id in chosen]


def filters(scope: tuple[int, ...], eap_only: bool) -> dict[str, ExportFilter]:
    """One filter of each preset's shape (as server.export_request writes them) at NOW."""
    base = ExportFilter(organization_ids=scope, eap_only=eap_only)
    day = timedelta(days=1)
    # A zone's midnight (4:00 UTC), the day before NOW.
    midnight = NOW.replace(hour=4, minute=0, second=0, microsecond=0) - day
    month = midnight.replace(day=1)
    return {
        "all": replace(base, ended_or_complete_at=NOW),
        "all_upcoming": replace(base, upcoming_at=NOW),
        "today": replace(base, starts_from=midnight, starts_before=midnight + day),
        "current_month": replace(base, starts_from=month, starts_before=month + 31 * day),
        "last_week": replace(
            base, starts_from=midnight - 9 * day, starts_before=midnight - 2 * day
        ),
        "custom_narrow": replace(
            base,
            starts_from=NOW - 300 * day + timedelta(minutes=13),
            starts_until=NOW - 296 * day - timedelta(seconds=1),
        ),
        "custom_wide": replace(
            base,
            starts_from=datetime(2000, 1, 1, tzinfo=UTC),
            starts_until=datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ),
        "upcoming_with_range": replace(
            base, upcoming_at=NOW, starts_from=NOW - 2 * day, starts_until=NOW + 9 * day
        ),
        "empty_range": replace(base, starts_from=NOW, starts_until=NOW - 5 * day),
        # Ranges that end before, or start after, the days around NOW.
        "all_in_the_past": replace(
            base,
            ended_or_complete_at=NOW,
            starts_from=NOW - 400 * day,
            starts_until=NOW - 300 * day + timedelta(hours=7),
        ),
        "upcoming_later": replace(
            base, upcoming_at=NOW, starts_from=NOW + 10 * day, starts_before=NOW + 20 * day
        ),
        "upcoming_in_the_past": replace(
            base, upcoming_at=NOW, starts_from=NOW - 30 * day, starts_before=NOW - 20 * day
        ),
        "all_with_range": replace(
            base,
            ended_or_complete_at=NOW,
            starts_from=NOW - 700 * day + timedelta(hours=5),
            starts_until=NOW + 20 * day,
        ),
    }
