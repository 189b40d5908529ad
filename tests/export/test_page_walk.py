"""Pages read from cached counts and page boundaries (store.snapshots) are the pages an OFFSET
would read: in order, through deep pages served backwards, for several organizations, and
after the data changed under a walk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import peewee
import pytest

from store import export as store_export
from store.database import is_sqlite
from store.export import ExportFilter, export_page
from tests.export.conftest import ORG_ID, document, many_meetings, meeting, organization

EVERYTHING = ExportFilter(
    organization_ids=(ORG_ID,),
    starts_from=datetime(2000, 1, 1, tzinfo=UTC),
    starts_until=datetime(2100, 1, 1, tzinfo=UTC),
)


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    store_export._COUNTS.clear()
    store_export._PAGE_STARTS.clear()


def names(rows: list[Any]) -> list[int]:
    return [int(row[0].removeprefix("m")) for row in rows]


def walk(
    db: peewee.Database, selected: ExportFilter, per_page: int, pages: list[int]
) -> dict[int, list[int]]:
    found = {}
    with db.connection_context():
        for number in pages:
            _, rows = export_page(
                selected, ["name"], offset=(number - 1) * per_page, limit=per_page
            )
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
        store_export._PAGE_STARTS.clear()
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
    store_export._PAGE_STARTS.clear()
    assert walk(db, both, 6, [6])[6] == expected[30:36]


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
        total, rows = export_page(EVERYTHING, ["name"], offset=20, limit=10)
    assert total == 95
    assert names(rows) == expected[25:35]


def test_writes_elsewhere_keep_the_cached_count_and_meeting_writes_end_it(
    db: peewee.Database, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document([]))
    many_meetings(db, 30)
    counted: list[ExportFilter] = []
    original = store_export._count

    def counting(selected: ExportFilter) -> int:
        counted.append(selected)
        return original(selected)

    store_export._count = counting
    try:
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
    finally:
        store_export._count = original
