"""Pages found from the stored day counts (store.export.positions) are the pages an OFFSET over
the filter would read: for every preset's shape, with and without the EAP filter, for one
organization and an EAP scope, at the first, a middle, the last and a past-the-end page, in
any order, with the store's caches off so that every page is found from the counts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import peewee
import pytest

from store.caches import set_caches_enabled
from store.export import Column, ExportFilter, export_page
from store.models import Meeting
from store.upcoming import DEEP_OFFSET, upcoming_meetings_page
from tests.export.conftest import ORG_ID
from tests.export.history import EAP_ID, NOW, Stored, expected_ids, filters, load_history

NAME = [Column("name", "name")]


@pytest.fixture
def history(db: peewee.Database) -> Iterator[list[Stored]]:
    stored = load_history(db)
    set_caches_enabled(False)
    try:
        yield stored
    finally:
        set_caches_enabled(True)


def _offsets(total: int, per_page: int) -> list[int]:
    last = max(total - 1, 0) // per_page * per_page
    middle = total // 2 // per_page * per_page
    # Out of order, repeated, with pages that straddle day boundaries and one past the end.
    return [middle, 0, last, middle, per_page, last - per_page, 1, total - 3, total, 0]


@pytest.mark.parametrize("scope", [(ORG_ID,), (EAP_ID, ORG_ID)])
@pytest.mark.parametrize("eap_only", [False, True])
def test_every_page_is_the_offset_page(
    db: peewee.Database, history: list[Stored], scope: tuple[int, ...], eap_only: bool
) -> None:
    per_page = 7
    with db.connection_context():
        for name, selected in filters(scope, eap_only).items():
            expected = expected_ids(selected, history)
            for offset in _offsets(len(expected), per_page):
                if offset < 0:
                    continue
                total, rows = export_page(selected, NAME, offset=offset, limit=per_page)
                found = [int(row[0].removeprefix("m")) for row in rows]
                assert total == len(expected), name
                assert found == expected[offset : offset + per_page], (name, offset)


def _every(step: int, history: list[Stored]) -> list[int]:
    return [meeting.id for meeting in history if meeting.id % step == 0]


def test_day_counts_follow_every_write(db: peewee.Database, history: list[Stored]) -> None:
    """Moves between days, statuses, flags and organizations, and deletes, keep the stored
    counts exact: the totals and a deep page still match the rows."""
    with db.connection_context(), db.atomic():
        Meeting.update(status="cancel").where(Meeting.id.in_(_every(17, history))).execute()
        Meeting.update(eap=True).where(Meeting.id.in_(_every(19, history))).execute()
        Meeting.update(organization=EAP_ID).where(Meeting.id.in_(_every(23, history))).execute()
        Meeting.delete().where(Meeting.id.in_(_every(29, history))).execute()
        moved = list(Meeting.select().where(Meeting.id.in_(_every(31, history))))
        for meeting in moved:
            meeting.start_time = meeting.start_time.replace(year=meeting.start_time.year - 1)
            meeting.end_time = meeting.end_time.replace(year=meeting.end_time.year - 1)
            meeting.save()
    with db.connection_context():
        stored = [
            Stored(m.organization_id, m.id, m.start_time, m.end_time, m.status, bool(m.eap))
            for m in Meeting.select()
        ]
        for scope in ((ORG_ID,), (EAP_ID, ORG_ID)):
            for eap_only in (False, True):
                for name, selected in filters(scope, eap_only).items():
                    expected = expected_ids(selected, stored)
                    middle = len(expected) // 2
                    total, rows = export_page(selected, NAME, offset=middle, limit=5)
                    found = [int(row[0].removeprefix("m")) for row in rows]
                    assert (total, found) == (len(expected), expected[middle : middle + 5]), name


@pytest.mark.parametrize("scope", [(ORG_ID,), (EAP_ID, ORG_ID)])
def test_every_page_of_the_feed_is_the_offset_page(
    db: peewee.Database, history: list[Stored], scope: tuple[int, ...]
) -> None:
    """Deep pages of the upcoming feed are found from the day counts too (DEEP_OFFSET)."""
    expected = expected_ids(ExportFilter(organization_ids=scope, upcoming_at=NOW), history)
    assert len(expected) > DEEP_OFFSET + 50
    per_page = 9
    with db.connection_context():
        for offset in [*_offsets(len(expected), per_page), DEEP_OFFSET - 1, DEEP_OFFSET + 5]:
            page = upcoming_meetings_page(
                scope, NOW, meeting_series_id=None, offset=offset, limit=per_page
            )
            assert page.total == len(expected)
            assert [row.id for row in page.rows] == expected[offset : offset + per_page], offset


def test_random_filters_count_and_page_as_an_offset_would(
    db: peewee.Database, history: list[Stored]
) -> None:
    """Filters drawn at random (seeded): ranges anywhere around the days near NOW, open or
    bounded, inclusive or exclusive, empty or inverted, on each moving set and scope."""
    draw = random.Random(20261207)
    day = timedelta(days=1)

    def instant() -> datetime:
        return NOW + timedelta(minutes=draw.randint(-40 * 24 * 60, 40 * 24 * 60))

    with db.connection_context():
        for _ in range(80):
            selected = ExportFilter(
                organization_ids=draw.choice([(ORG_ID,), (EAP_ID, ORG_ID), (EAP_ID,)]),
                eap_only=draw.random() < 0.3,
                ended_or_complete_at=NOW if draw.random() < 0.35 else None,
                starts_from=instant() if draw.random() < 0.6 else None,
                starts_before=instant() if draw.random() < 0.3 else None,
                starts_until=instant() + draw.random() * day if draw.random() < 0.3 else None,
            )
            if selected.ended_or_complete_at is None and draw.random() < 0.5:
                selected = replace(selected, upcoming_at=NOW)
            expected = expected_ids(selected, history)
            offsets = [0, len(expected), *(draw.randrange(len(expected) + 1) for _ in range(3))]
            for offset in offsets:
                total, rows = export_page(selected, NAME, offset=offset, limit=6)
                found = [int(row[0].removeprefix("m")) for row in rows]
                assert (total, found) == (len(expected), expected[offset : offset + 6]), selected
