"""The feed costs the same few SQL statements whatever the page size: never one per meeting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.database import is_sqlite
from tests.upcoming.conftest import (
    ACCESS_KEY,
    ORG_ID,
    Document,
    Feed,
    document,
    meeting,
    registration,
    user,
)

MEETINGS = 150
LEADERS = list(range(1, 11))
ATTENDEES = list(range(100, 130))


def busy_document() -> Document:
    """150 upcoming meetings, each with a leader and several registrations of each status."""
    meetings = [
        meeting(
            1000 + n,
            f"2026-06-{n % 28 + 1:02d}T{n % 24:02d}:00:00+00:00",
            group_leader_id=LEADERS[n % len(LEADERS)],
        )
        for n in range(MEETINGS)
    ]
    registrations = []
    for n, record in enumerate(meetings):
        attendees = ATTENDEES[n % 7 : n % 7 + 6]
        statuses = ["registered", "registered", "registered", "waitlisted", "cancelled"]
        registrations += [
            registration(record["id"], user_id, statuses[i % len(statuses)])
            for i, user_id in enumerate(attendees)
        ]
        registrations.append(registration(record["id"], record["group_leader_id"]))
    return document(
        users=[user(user_id) for user_id in LEADERS + ATTENDEES],
        meetings=meetings,
        registrations=registrations,
    )


class StatementLog:
    """Every SQL statement the database runs, on any thread, while recording."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event: peewee.QueryEvent) -> None:
        with self._lock:
            self.statements.append(event.sql)

    def feed_statements(self) -> list[str]:
        """The statements of the feed itself; the rest is the interceptor's token check and
        its per-RPC statement deadline (PostgreSQL's set_config of statement_timeout)."""
        return [
            sql
            for sql in self.statements
            if 'FROM "organization"' not in sql and "set_config('statement_timeout'" not in sql
        ]


@pytest.fixture
def record_statements(db: peewee.Database) -> Callable[[], Any]:
    @contextmanager
    def recording() -> Iterator[StatementLog]:
        log = StatementLog()
        db.query_hooks.append(log)
        try:
            yield log
        finally:
            db.query_hooks.remove(log)

    return recording


def expected_feed(db: peewee.Database) -> list[tuple[bool, bool]]:
    """(counts something, reads registrations) of each feed statement, in order."""
    if is_sqlite(db):
        return [(True, False), (True, True)]
    return [(True, True)]


def test_a_page_of_1_and_a_page_of_100_cost_the_same_statements(
    db: peewee.Database,
    load: Callable[[Document], None],
    stub: pb_grpc.MeetingsServiceStub,
    record_statements: Callable[[], Any],
) -> None:
    load(busy_document())
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token
    metadata = [("authorization", f"Bearer {token}")]
    counts = {}
    for page_size in (1, 100):
        request = pb.ListUpcomingMeetingsRequest(organization_id=ORG_ID, page_size=page_size)
        with record_statements() as log:
            response = stub.ListUpcomingMeetings(request, metadata=metadata)
        assert len(response.meetings) == page_size
        assert all(m.registered_attendees > 0 for m in response.meetings)
        # SQLite: the total, then the page of meetings joined to their leaders with their
        # registered counts (one row to step). PostgreSQL: all of it in one statement.
        feed = log.feed_statements()
        assert [("COUNT" in sql, '"registration"' in sql) for sql in feed] == expected_feed(db)
        counts[page_size] = len(log.statements)
    assert counts[1] == counts[100]


def test_an_empty_page_needs_only_the_total(
    load: Callable[[Document], None],
    stub: pb_grpc.MeetingsServiceStub,
    record_statements: Callable[[], Any],
) -> None:
    load(busy_document())
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token
    request = pb.ListUpcomingMeetingsRequest(organization_id=ORG_ID, page=99, page_size=100)
    with record_statements() as log:
        response = stub.ListUpcomingMeetings(
            request, metadata=[("authorization", f"Bearer {token}")]
        )
    assert (len(response.meetings), response.total_items) == (0, MEETINGS)
    assert len(log.feed_statements()) == 1


async def test_the_rest_feed_costs_the_same_for_1_and_100_items(
    db: peewee.Database,
    load: Callable[[Document], None],
    feed: Feed,
    record_statements: Callable[[], Any],
) -> None:
    load(busy_document())
    counts = {}
    for items in (1, 100):
        with record_statements() as log:
            response = await feed(f"items={items}")
            body = await response.json()
        assert len(body["meetings"]) == items
        # The helper's token exchange and the token check only read organizations.
        counts[items] = len(log.feed_statements())
    statements = len(expected_feed(db))
    assert counts == {1: statements, 100: statements}
