"""On SQLite, the reads that step through a page of rows take turns within the process
(store.session.sqlite_turn): a feed page waits while another thread holds the turn, an export
stream holds it only while it reads a batch, and a thread holding it may read on. PostgreSQL
reads never wait for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from store.database import is_sqlite
from store.export import Column, ExportFilter, open_export
from store.session import sqlite_turn
from store.upcoming import upcoming_meetings_page
from tests.upcoming.conftest import ORG_ID, Document, document, meeting

# The one column these reads ask for, as the server names it.
NAME = [Column("name", "name")]

START = datetime(2026, 5, 20, 12, tzinfo=UTC)
# Long enough for a page read of a few rows to finish many times over on a loaded machine.
SETTLE_SECONDS = 0.5
WAIT_SECONDS = 10.0


def ten_meetings() -> Document:
    return document(
        meetings=[
            meeting(n, (START + timedelta(hours=n)).isoformat(), duration=30) for n in range(1, 11)
        ]
    )


class Reader(threading.Thread):
    """Runs one store read on a thread (and connection) of its own, keeping its answer."""

    def __init__(self, db: peewee.Database, read: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._db = db
        self._read = read
        self.answer: Any = None
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with self._db.connection_context():
                self.answer = self._read()
        except BaseException as exc:  # handed to the test, which fails with it
            self.failure = exc

    def result(self) -> Any:
        self.join(WAIT_SECONDS)
        assert not self.is_alive(), "the read did not finish"
        if self.failure is not None:
            raise self.failure
        return self.answer


def feed_ids() -> list[int]:
    page = upcoming_meetings_page([ORG_ID], START, meeting_series_id=None, offset=0, limit=20)
    return [row.id for row in page.rows]


def test_a_feed_page_waits_for_the_turn_on_sqlite_only(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(ten_meetings())
    reader = Reader(db, feed_ids)
    with sqlite_turn():
        reader.start()
        reader.join(SETTLE_SECONDS)
        waited = reader.is_alive()
    assert reader.result() == list(range(1, 11))
    # SQLite: the page was read after the turn was given back; PostgreSQL: at once.
    assert waited == is_sqlite(db)


def test_a_thread_holding_the_turn_reads_on(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(ten_meetings())

    def nested() -> list[int]:
        with sqlite_turn():
            return feed_ids()

    reader = Reader(db, nested)
    reader.start()
    # A turn that is not re-entrant would leave the read waiting for its own thread.
    assert reader.result() == list(range(1, 11))


def test_an_export_stream_holds_the_turn_only_while_it_reads_a_batch(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(ten_meetings())
    selected = ExportFilter(organization_ids=(ORG_ID,), starts_from=START)
    first_batch = threading.Event()
    go_on = threading.Event()

    def stream() -> list[str]:
        with closing(open_export(selected, NAME, 3)) as reader:
            names = [row[0] for row in reader.fetch()]
            first_batch.set()
            assert go_on.wait(WAIT_SECONDS)
            while rows := reader.fetch():
                names += [row[0] for row in rows]
        return names

    streaming = Reader(db, stream)
    streaming.start()
    assert first_batch.wait(WAIT_SECONDS)
    # Between two batches of the open stream, a page is read on another thread.
    page = Reader(db, feed_ids)
    page.start()
    try:
        assert page.result() == list(range(1, 11))
    finally:
        go_on.set()
    assert len(streaming.result()) == 10
