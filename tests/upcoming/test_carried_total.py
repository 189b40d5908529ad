"""The feed's total, carried forward in time from a count of the same snapshot, is the total
a fresh count gives: as meetings end, across the recount interval, and after a write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import peewee
import pytest

from store.caches import reset_caches
from store.carried import CARRY_WITHIN
from store.upcoming import upcoming_meetings_page
from tests.upcoming.conftest import ORG_ID, Document, document, meeting

START = datetime(2026, 5, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_totals() -> None:
    reset_caches()


def hourly_meetings() -> Document:
    """Forty meetings, one starting every 30 minutes from START, lasting 30 to 120 minutes;
    every fifth is cancelled."""
    return document(
        meetings=[
            meeting(
                n,
                (START + timedelta(minutes=30 * n)).isoformat(),
                duration=30 * (1 + n % 4),
                status="cancel" if n % 5 == 0 else "scheduled",
            )
            for n in range(1, 41)
        ]
    )


def feed_at(db: peewee.Database, now: datetime) -> tuple[int, list[int]]:
    with db.connection_context():
        page = upcoming_meetings_page([ORG_ID], now, meeting_series_id=None, offset=0, limit=5)
    return page.total, [row.id for row in page.rows]


def fresh_feed_at(db: peewee.Database, now: datetime) -> tuple[int, list[int]]:
    reset_caches()
    return feed_at(db, now)


def test_a_carried_total_equals_a_fresh_count_as_meetings_end(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(hourly_meetings())
    feed_at(db, START)  # counted here, then carried
    for minutes in (0, 1, 29, 30, 31, 95, 240, 299, 300, 301, 600, 1500):
        now = START + timedelta(minutes=minutes)
        carried = feed_at(db, now)
        assert carried == fresh_feed_at(db, now), minutes
        feed_at(db, START)  # the next step carries from START again


def scheduled_ends(doc: Document) -> list[datetime]:
    """When the document's scheduled (not cancelled) meetings end, each instant once."""
    return sorted(
        {
            datetime.fromisoformat(record["start_time"]) + timedelta(minutes=record["duration"])
            for record in doc["meetings"]
            if record["status"] == "scheduled"
        }
    )


# (before, after): counted this long before a meeting ends, carried to this long after it.
# Each pair stays within CARRY_WITHIN, so the total is carried, not counted again.
CARRIES = (
    (timedelta(minutes=4), timedelta(0)),  # a meeting ending at the very instant carried to
    (timedelta(seconds=1), timedelta(0)),
    (timedelta(minutes=1), timedelta(minutes=3)),
    (timedelta(minutes=2), timedelta(minutes=2, seconds=59)),
    (timedelta(0), timedelta(minutes=4)),  # counted as it ended: nothing ends after
)


def test_a_total_carried_across_meeting_ends_equals_a_fresh_count(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    doc = hourly_meetings()
    load(doc)
    ends = scheduled_ends(doc)
    assert len(ends) > 20  # two meetings end together at some of these instants
    assert all(before + after < CARRY_WITHIN for before, after in CARRIES)
    crossed = 0
    for end in ends:
        for before, after in CARRIES:
            counted_at, carried_to = end - before, end + after
            counted = fresh_feed_at(db, counted_at)  # counted here, then carried
            carried = feed_at(db, carried_to)
            fresh = fresh_feed_at(db, carried_to)
            assert carried == fresh, (end, before, after)
            crossed += counted[0] != fresh[0]
    # Most carries crossed the end of a meeting: the total they carried had to drop.
    assert crossed >= len(ends) * (len(CARRIES) - 1)


def test_the_page_starts_at_meetings_in_progress(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(hourly_meetings())
    # At START + 3 h, meeting 3 (started 1.5 h earlier, lasting 2 h) is still in progress.
    total, ids = feed_at(db, START + timedelta(hours=3))
    assert ids[0] == 3
    assert (total, ids) == fresh_feed_at(db, START + timedelta(hours=3))


def test_a_write_is_counted_at_once(db: peewee.Database, load: Callable[[Document], None]) -> None:
    load(hourly_meetings())
    before, _ = feed_at(db, START)
    with db.connection_context(), db.atomic():
        db.execute_sql("UPDATE meeting SET status = 'cancel' WHERE id IN (38, 39)")
    after, _ = feed_at(db, START + timedelta(minutes=1))
    assert after == before - 2
