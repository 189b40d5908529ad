"""Pages read from cached counts and page boundaries (store.snapshots) are the pages an OFFSET
would read: in order, through deep pages served backwards, for several organizations, and
after the data changed under a walk."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import pytest

from store.caches import reset_caches
from store.database import is_sqlite
from store.export import Column, ExportFilter, export_page, open_export
from store.export import pages as export_pages
from tests.conftest import recorded_calls
from tests.export.conftest import (
    MANY_BASE,
    ORG_ID,
    document,
    many_meetings,
    meeting,
    organization,
)

# The one column these reads ask for, as the server names it.
NAME = [Column("name", "name")]

EVERYTHING = ExportFilter(
    organization_ids=(ORG_ID,),
    starts_from=datetime(2000, 1, 1, tzinfo=UTC),
    starts_until=datetime(2100, 1, 1, tzinfo=UTC),
)


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    reset_caches()


def names(rows: list[Any]) -> list[int]:
    return [int(row[0].removeprefix("m")) for row in rows]


def walk(
    db: peewee.Database, selected: ExportFilter, per_page: int, pages: list[int]
) -> dict[int, list[int]]:
    found = {}
    with db.connection_context():
        for number in pages:
            _, rows = export_page(selected, NAME, offset=(number - 1) * per_page, limit=per_page)
            found[number] = names(rows)
    return found


def test_a_walk_reads_every_page_once_in_order(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    expected = many_meetings(db, 1000)
    per_page = 7
    pages = list(range(1, 1000 // per_page + 2))
    walked = walk(db, EVERYTHING, per_page, pages)
    assert [m for number in pages for m in walked[number]] == expected
    # Again, now that every page start is cached, and in another order: the same pages.
    again = walk(db, EVERYTHING, per_page, list(reversed(pages)))
    assert again == walked


def test_deep_pages_read_backwards_match_the_offset_order(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    expected = many_meetings(db, 1000)
    for per_page, number in ((10, 100), (10, 99), (30, 34), (30, 33), (1, 1000), (3, 250)):
        reset_caches()  # no page start kept: read from the offset
        walked = walk(db, EVERYTHING, per_page, [number])
        assert walked[number] == expected[(number - 1) * per_page : number * per_page]


def test_pages_of_several_organizations_merge_in_order(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    starts = [f"2026-01-{day:02d}T{hour:02d}:00:00+00:00" for day in (1, 2) for hour in (9, 10)]
    meetings = [
        meeting(n, starts[n % 4], org_id=ORG_ID if n % 3 else 6, name=f"m{n}") for n in range(1, 41)
    ]
    load(document(meetings, [organization(eap=True, hpc=6), organization(6, key="k" * 24)]))
    expected = [
        m["id"]
        for m in sorted(meetings, key=lambda m: (datetime.fromisoformat(m["start_time"]), m["id"]))
    ]
    both = ExportFilter(organization_ids=(ORG_ID, 6), starts_from=EVERYTHING.starts_from)
    walked = walk(db, both, 6, list(range(1, 8)))
    assert [m for number in range(1, 8) for m in walked[number]] == expected
    reset_caches()  # no page start kept: read from the offset
    assert walk(db, both, 6, [6])[6] == expected[30:36]


def every_match(db: peewee.Database, selected: ExportFilter) -> list[int]:
    """The filter's meetings as the streamed export reads them (no page statement)."""
    with db.connection_context(), closing(open_export(selected, NAME, 10_000)) as reader:
        return names(reader.fetch())


def test_one_statement_per_shape_serves_every_value_of_that_shape(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    many_meetings(db, 1000)  # every 5 minutes from MANY_BASE, two at a time
    base = MANY_BASE.replace(tzinfo=UTC)
    at = [base + timedelta(minutes=minutes) for minutes in (0, 300, 700, 1500, 2200, 2600)]
    # Same shapes, other values: the statements written for the first serve the rest.
    filters = [
        ExportFilter(organization_ids=(ORG_ID,), starts_from=at[0], starts_until=at[3]),
        ExportFilter(organization_ids=(ORG_ID,), starts_from=at[1], starts_until=at[4]),
        ExportFilter(organization_ids=(ORG_ID,), starts_from=at[2], starts_until=at[5]),
        ExportFilter(organization_ids=(ORG_ID,), ended_or_complete_at=at[5], starts_before=at[2]),
        ExportFilter(organization_ids=(ORG_ID,), ended_or_complete_at=at[5], starts_before=at[4]),
    ]
    written = export_pages._page_keys_sql.cache_info().misses
    for selected in filters:
        expected = every_match(db, selected)
        assert len(expected) > 100
        per_page = 9
        pages = list(range(1, len(expected) // per_page + 2))
        # Forwards with keys carried from page to page, then each page alone: the deep ones
        # are read backwards.
        walked = walk(db, selected, per_page, pages)
        assert [m for number in pages for m in walked[number]] == expected
        reset_caches()  # no page start kept: read from the offset
        for number in (1, 2, len(pages) // 2, len(pages) - 1, len(pages)):
            assert walk(db, selected, per_page, [number])[number] == walked[number]
    # Two shapes, three ways of reading each (forwards, after a key, backwards).
    assert export_pages._page_keys_sql.cache_info().misses - written <= 6


def test_a_change_to_the_data_is_seen_by_the_next_page(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    expected = many_meetings(db, 100)
    assert walk(db, EVERYTHING, 10, [1, 2]) == {1: expected[:10], 2: expected[10:20]}
    with db.connection_context(), db.atomic():
        gone = ", ".join(map(str, expected[:5]))
        db.execute_sql(f"DELETE FROM meeting WHERE id IN ({gone})")
    with db.connection_context():
        total, rows = export_page(EVERYTHING, NAME, offset=20, limit=10)
    assert total == 95
    assert names(rows) == expected[25:35]


def test_writes_elsewhere_keep_the_cached_count_and_meeting_writes_end_it(
    db: peewee.Database, load: Callable[[dict[str, Any]], None], counted: list[ExportFilter]
) -> None:
    load(document([]))
    many_meetings(db, 30)
    walk(db, EVERYTHING, 10, [1])
    # A write that touches no meeting: another table here (on PostgreSQL, it takes a
    # transaction id, as any other application on the cluster would).
    with db.connection_context(), db.atomic():
        db.execute_sql("UPDATE organization SET name = name || '.'")
    walk(db, EVERYTHING, 10, [2])
    assert len(counted) == (2 if is_sqlite(db) else 1)
    with db.connection_context(), db.atomic():
        first = "(SELECT MIN(id) FROM meeting)"
        db.execute_sql(f"UPDATE meeting SET topic = 'moved' WHERE id = {first}")
    walk(db, EVERYTHING, 10, [3])
    assert len(counted) == (3 if is_sqlite(db) else 2)


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[ExportFilter]:
    """The filters whose pieces (store.export.positions) the store counts during the test."""
    return recorded_calls(monkeypatch, export_pages, "piece_counts")


def test_pages_out_of_order_count_a_fixed_filters_pieces_once_a_snapshot(
    db: peewee.Database, load: Callable[[dict[str, Any]], None], placed: list[ExportFilter]
) -> None:
    load(document([]))
    expected = many_meetings(db, 300)
    # None of these follows the page served before it, so each is placed from the pieces.
    pages = [20, 3, 20, 1, 3]
    with db.connection_context():
        for number in pages:
            total, rows = export_page(EVERYTHING, NAME, offset=(number - 1) * 10, limit=10)
            assert (total, names(rows)) == (300, expected[(number - 1) * 10 : number * 10])
    # Once, for the total and the first page's place together.
    assert placed == [EVERYTHING]
    with db.connection_context(), db.atomic():
        db.execute_sql(f"DELETE FROM meeting WHERE id = {expected[0]}")
    assert walk(db, EVERYTHING, 10, [3])[3] == expected[21:31]
    assert placed == [EVERYTHING, EVERYTHING]


# --- the default export (`all`) and `all_upcoming`: a set that moves with `now` ---


def moving_meetings(db: peewee.Database) -> datetime:
    """400 meetings, two starting every 5 minutes from MANY_BASE, an hour long; most
    scheduled, some cancelled, some complete. Returns an instant in the middle of them."""
    many_meetings(db, 400)
    with db.connection_context(), db.atomic():
        modulo = "%" if is_sqlite(db) else "%%"  # psycopg2 reads a lone % as a parameter
        db.execute_sql(
            f"UPDATE meeting SET status = CASE WHEN id {modulo} 5 = 0 THEN 'cancel' "
            f"WHEN id {modulo} 7 = 0 THEN 'complete' ELSE 'scheduled' END"
        )
    return MANY_BASE.replace(tzinfo=UTC) + timedelta(minutes=502)


def walk_while_time_passes(
    db: peewee.Database, at: Callable[[datetime], ExportFilter], start: datetime, step: timedelta
) -> list[tuple[ExportFilter, int, list[int]]]:
    """Every page (per_page=9), each at an instant `step` later than the one before: the
    filter, the total and the page's meetings as export_page answered."""
    answers = []
    with db.connection_context():
        offset, now = 0, start
        while True:
            selected = at(now)
            total, rows = export_page(selected, NAME, offset=offset, limit=9)
            answers.append((selected, total, names(rows)))
            if not rows:
                return answers
            offset, now = offset + 9, now + step


@pytest.mark.parametrize(
    "at",
    [
        lambda now: ExportFilter(organization_ids=(ORG_ID,), ended_or_complete_at=now),
        lambda now: ExportFilter(organization_ids=(ORG_ID,), upcoming_at=now),
    ],
    ids=["all", "all_upcoming"],
)
def test_pages_of_a_set_moving_with_now_are_the_pages_an_offset_reads_at_that_now(
    db: peewee.Database,
    load: Callable[[dict[str, Any]], None],
    at: Callable[[datetime], ExportFilter],
    counted: list[ExportFilter],
) -> None:
    load(document([]))
    middle = moving_meetings(db)
    # 50 s a page: meetings end between pages, early in the order and late.
    answers = walk_while_time_passes(
        db, at, middle - timedelta(minutes=150), step=timedelta(seconds=50)
    )
    assert len(answers) > 10
    # Counted once per CARRY_WITHIN (5 minutes) of the walk's clock, not once per page: the
    # pages in between carried the count to their own instant.
    assert len(counted) <= 1 + len(answers) * 50 // 300
    for number, (selected, total, found) in enumerate(answers):
        expected = every_match(db, selected)
        assert total == len(expected), number
        assert found == expected[number * 9 : number * 9 + 9], number


@pytest.mark.parametrize("minutes", [-4, -1, 0, 1, 4, 6, -6])
def test_a_count_carried_to_another_instant_equals_a_fresh_count(
    db: peewee.Database, load: Callable[[dict[str, Any]], None], minutes: int
) -> None:
    load(document([]))
    middle = moving_meetings(db)
    later = middle + timedelta(minutes=minutes)
    for field in ("ended_or_complete_at", "upcoming_at"):
        reset_caches()
        with db.connection_context():
            export_page(ExportFilter((ORG_ID,), **{field: middle}), NAME, offset=0, limit=1)
            total, _ = export_page(
                ExportFilter((ORG_ID,), **{field: later}), NAME, offset=0, limit=1
            )
        assert total == len(every_match(db, ExportFilter((ORG_ID,), **{field: later}))), field


def test_a_page_start_is_checked_alone_when_the_count_was_read_at_another_instant(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    middle = moving_meetings(db)
    at = [middle, middle + timedelta(minutes=4)]  # meetings ending at 505 min leave between
    pages = {}
    with db.connection_context():
        for number in (1, 2, 3):
            selected = ExportFilter((ORG_ID,), upcoming_at=at[0])
            pages[number] = names(export_page(selected, NAME, offset=(number - 1) * 9, limit=9)[1])
        later = ExportFilter((ORG_ID,), upcoming_at=at[1])
        # Page 1 at the later instant keeps the count at that instant, so page 4's start
        # (kept at the earlier one) is carried on its own, not in one statement with it.
        export_page(later, NAME, offset=0, limit=9)
        total, rows = export_page(later, NAME, offset=27, limit=9)
    expected = every_match(db, later)
    assert [m for number in (1, 2, 3) for m in pages[number]] == every_match(
        db, ExportFilter((ORG_ID,), upcoming_at=at[0])
    )[:27]
    assert total == len(expected)
    # The meetings that left sorted before page 4's cached start: an offset read moved on.
    assert names(rows) == expected[27:36]
