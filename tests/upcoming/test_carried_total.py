"""The feed's total, carried forward in time from a count of the same snapshot, is the total
a fresh count gives: as meetings end, across the recount interval, and after a write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import peewee
import pytest

from store import upcoming as store_upcoming
from store.upcoming import upcoming_meetings_page
from tests.upcoming.conftest import ORG_ID, Document, document, meeting

START = datetime(2026, 5, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_totals() -> None:
    store_upcoming._TOTALS.clear()


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
    store_upcoming._TOTALS.clear()
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
