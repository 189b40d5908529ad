"""No page of the export, and no page of the upcoming feed, reads an organization's history:
every statement they run is run again and measured by the database itself. PostgreSQL: under
EXPLAIN ANALYZE, no statement reads more meeting rows than a few days and a page hold (the
history holds over twenty thousand). SQLite, which counts no rows: no statement takes more
virtual machine steps than a few days' rows do (its query plan shows on failure).

Every preset's shape, with and without the EAP filter, for one organization and an EAP
scope, at the first, a middle, the last and a past-the-end page, with the store's caches off
(every count and page start found from scratch) and on (a walk's page starts reused)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import peewee
import pytest

from store.caches import set_caches_enabled
from store.database import is_sqlite
from store.export import Column, export_page
from store.upcoming import upcoming_meetings_page
from tests.export.conftest import ORG_ID
from tests.export.history import EAP_ID, NOW, SERIES_ID, Stored, filters, load_history

NAME = [Column("name", "name")]

# Meeting rows a statement may read on PostgreSQL: a few days' meetings (about 15 a day in
# scope here), a page, and the upcoming meetings (about 950), which the feed's one statement
# reads twice for an EAP scope (its total, then its page sorted from both organizations).
MOST_ROWS_READ = 3000
# SQLite steps a statement may take. Measured here: the largest of the pages' statements
# takes 27,000 (a feed page of a series, stepping over the series' earlier upcoming
# meetings, each with its leader and registrations); an OFFSET over half of the history,
# 48,000; all of it, over 100,000.
MOST_SQLITE_STEPS = 40_000
Statement = tuple[str, Any]


@pytest.fixture
def history(db: peewee.Database) -> list[Stored]:
    return load_history(db)


@pytest.fixture
def recorded(db: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Statement]]:
    """Every statement the store runs on `db` during the test, with its parameters."""
    statements: list[Statement] = []
    original: Any = db.execute_sql

    def recording(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        statements.append((sql, params))
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", recording)
    yield statements


def _offsets(total: int, per_page: int) -> list[int]:
    last = max(total - 1, 0) // per_page * per_page
    return [0, total // 2 // per_page * per_page, last, total + per_page]


def _export_pages() -> None:
    for scope in ((ORG_ID,), (EAP_ID, ORG_ID)):
        for eap_only in (False, True):
            for selected in filters(scope, eap_only).values():
                total, _ = export_page(selected, NAME, offset=0, limit=20)
                for offset in _offsets(total, 20):
                    export_page(selected, NAME, offset=offset, limit=20)
                    export_page(selected, NAME, offset=offset + 20, limit=20)


def _feed_pages() -> None:
    for scope, series in (((ORG_ID,), None), ((ORG_ID,), SERIES_ID), ((EAP_ID, ORG_ID), None)):
        first = upcoming_meetings_page(scope, NOW, meeting_series_id=series, offset=0, limit=20)
        for offset in _offsets(first.total, 20):
            upcoming_meetings_page(scope, NOW, meeting_series_id=series, offset=offset, limit=20)


def sqlite_steps(db: peewee.Database, sql: str, params: Any) -> int:
    """The virtual machine steps SQLite takes to run a statement to its end: a handful per
    row read, so a read of the history takes tens of times a page's. (SQLite keeps no count
    of rows read; its plan alone cannot tell a LIMIT from a scan.)"""
    connection = db.connection()  # type: ignore[no-untyped-call]
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 100
        return 0

    connection.set_progress_handler(count, 100)
    try:
        connection.execute(sql, params or ()).fetchall()
    finally:
        connection.set_progress_handler(None, 0)
    return steps


def postgres_rows_read(db: peewee.Database, sql: str, params: Any) -> int:
    """Meeting rows a statement reads, as EXPLAIN ANALYZE counts them (returned or removed
    by a filter, every loop)."""
    cursor = db.execute_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)  # type: ignore[no-untyped-call]
    (document,) = cursor.fetchone()
    plans = document if isinstance(document, list) else json.loads(document)

    def read(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == "meeting":
            rows = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
            rows += node.get("Rows Removed by Index Recheck", 0)
            own = int(rows * node.get("Actual Loops", 1))
        return own + sum(read(child) for child in node.get("Plans", []))

    return sum(read(plan["Plan"]) for plan in plans)


def _reads_of(db: peewee.Database, statements: list[Statement]) -> list[tuple[str, Any]]:
    """Each statement that reads too much, with what it read."""
    found: list[tuple[str, Any]] = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        if is_sqlite(db):
            steps = sqlite_steps(db, sql, params)
            print("STEPS", steps, sql[:100])
            if steps > MOST_SQLITE_STEPS:
                plan = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()  # type: ignore[no-untyped-call]
                found.append((sql, (steps, [line[-1] for line in plan])))
        else:
            rows = postgres_rows_read(db, sql, params)
            if rows > MOST_ROWS_READ:
                found.append((sql, rows))
    return found


@pytest.mark.parametrize("caches", [False, True])
@pytest.mark.parametrize("pages", [_export_pages, _feed_pages], ids=["export", "feed"])
def test_no_page_reads_the_history(
    db: peewee.Database,
    history: list[Stored],
    recorded: list[Statement],
    caches: bool,
    pages: Callable[[], None],
) -> None:
    assert len(history) > 20_000
    set_caches_enabled(caches)
    try:
        with db.connection_context():
            pages()
            statements = list(recorded)
            assert statements
            assert _reads_of(db, statements) == []
    finally:
        set_caches_enabled(True)


def test_the_check_sees_a_read_of_the_history(
    db: peewee.Database, history: list[Stored], recorded: list[Statement]
) -> None:
    """The check itself: a middle page of `all` read as an OFFSET over the organization's
    meetings (as pages were read before the day counts) is caught."""
    assert history
    offset_page = (
        'SELECT "id" FROM "meeting" WHERE "organization_id" = {p} '
        'AND ("end_time" <= {p} OR "status" = \'complete\') '
        'ORDER BY "start_time", "id" LIMIT 20 OFFSET 8000'
    ).format(p="?" if is_sqlite(db) else "%s")
    with db.connection_context():
        found = _reads_of(db, [(offset_page, [ORG_ID, NOW.replace(tzinfo=None)])])
    assert len(found) == 1
