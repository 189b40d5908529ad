"""A member's page costs one SQL statement whatever its size and whichever page is asked
(never one per meeting), and that statement is served by indexes: no table is scanned."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.database import is_sqlite
from store.member_upcoming import _statement
from tests.member_upcoming.conftest import (
    ACCESS_KEY,
    MEMBER,
    MEMBER_IDP,
    ORG_ID,
    Document,
    document,
    meeting,
    membership,
    registration,
    user,
)
from tests.upcoming.test_query_count import StatementLog

MEETINGS = 150
LEADERS = list(range(1, 11))
OTHERS = list(range(101, 120))


def busy_document() -> Document:
    """150 upcoming meetings the member signed up for (and a few cancelled), each with a leader
    and other members' registrations of every status."""
    meetings = [
        meeting(
            1000 + n,
            f"2026-06-{n % 28 + 1:02d}T{n % 24:02d}:00:00+00:00",
            group_leader_id=LEADERS[n % len(LEADERS)],
        )
        for n in range(MEETINGS + 10)
    ]
    registrations = []
    statuses = ["registered", "registered", "waitlisted", "cancelled"]
    for n, record in enumerate(meetings):
        mine = "cancelled" if n >= MEETINGS else ("waitlisted" if n % 5 == 0 else "registered")
        registrations.append(registration(record["id"], MEMBER, mine, "2026-05-01T10:00:00Z"))
        registrations += [
            registration(record["id"], other, statuses[i % len(statuses)])
            for i, other in enumerate(OTHERS[n % 5 : n % 5 + 6])
        ]
    users = [user(n) for n in [MEMBER, *LEADERS, *OTHERS]]
    memberships = [membership(MEMBER, MEMBER_IDP), *(membership(n, f"o{n}") for n in OTHERS)]
    return document(
        users=users, meetings=meetings, registrations=registrations, memberships=memberships
    )


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


@pytest.fixture
def call(
    load: Callable[[Document], None], stub: pb_grpc.MeetingsServiceStub
) -> Callable[..., pb.ListMemberUpcomingMeetingsResponse]:
    load(busy_document())
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token

    def page(**fields: int) -> pb.ListMemberUpcomingMeetingsResponse:
        request = pb.ListMemberUpcomingMeetingsRequest(
            organization_id=ORG_ID, idp_id=MEMBER_IDP, **fields
        )
        response: pb.ListMemberUpcomingMeetingsResponse = stub.ListMemberUpcomingMeetings(
            request, metadata=[("authorization", f"Bearer {token}")]
        )
        return response

    return page


def test_a_page_of_1_and_a_page_of_100_are_one_statement(
    call: Callable[..., pb.ListMemberUpcomingMeetingsResponse],
    record_statements: Callable[[], Any],
) -> None:
    for page_size in (1, 100):
        with record_statements() as log:
            response = call(page_size=page_size)
        assert len(response.meetings) == page_size
        assert response.total_items == MEETINGS
        assert all(m.meeting.registered_attendees > 0 for m in response.meetings)
        (statement,) = log.feed_statements()
        assert all(table in statement for table in ('"membership"', '"registration"', '"user"'))


def test_pages_asked_out_of_order_cost_the_same_one_statement(
    call: Callable[..., pb.ListMemberUpcomingMeetingsResponse],
    record_statements: Callable[[], Any],
) -> None:
    seen: dict[int, list[str]] = {}
    for page in (7, 1, 15, 3, 16):
        with record_statements() as log:
            response = call(page=page, page_size=10)
        assert len(response.meetings) == (10 if page <= 15 else 0)
        seen[page] = log.feed_statements()
    assert all(len(statements) == 1 for statements in seen.values())
    assert len({statements[0] for statements in seen.values()}) == 1  # the same text


def sparse_document() -> Document:
    """An organization with many meetings, of which the member signed up for a few: the shape
    of real data, which the planner's statistics describe."""
    meetings = [
        meeting(5000 + n, f"2026-{5 + n // 1000:02d}-{n % 28 + 1:02d}T{n % 24:02d}:00:00+00:00")
        for n in range(3000)
    ]
    registrations = [
        registration(5000 + n, other, "registered")
        for n in range(3000)
        for other in OTHERS[n % 7 : n % 7 + 3]
    ]
    registrations += [registration(5000 + n * 97) for n in range(30)]
    users = [user(n) for n in [MEMBER, *OTHERS]]
    memberships = [membership(MEMBER, MEMBER_IDP), *(membership(n, f"o{n}") for n in OTHERS)]
    return document(
        users=users, meetings=meetings, registrations=registrations, memberships=memberships
    )


def _plan(db: peewee.Database) -> str:
    """The plan of a member's page, as the database would run it."""
    sqlite = is_sqlite(db)
    params: dict[str, Any] = {
        "o0": ORG_ID,
        "org": ORG_ID,
        "idp": MEMBER_IDP,
        "now": "2026-05-20 12:00:00" if sqlite else datetime(2026, 5, 20, 12, tzinfo=UTC),
        "limit": 10,
        "offset": 10,
    }
    with db.connection_context():
        if sqlite:
            rows = db.execute_sql("EXPLAIN QUERY PLAN " + _statement(True, 1), params).fetchall()
            return "\n".join(row[-1] for row in rows)
        db.execute_sql("ANALYZE")  # statistics, as a running database has them
        (row,) = db.execute_sql("EXPLAIN (FORMAT JSON) " + _statement(False, 1), params)
        return json.dumps(row[0])


def test_the_page_is_served_by_indexes(
    db: peewee.Database, load: Callable[[Document], None]
) -> None:
    load(sparse_document())
    plan = _plan(db)
    if is_sqlite(db):
        assert "membership_organization_id_idp_id" in plan
        assert "registration_user_id_status_meeting_id" in plan
        scanned = [line for line in plan.splitlines() if line.startswith("SCAN ")]
        # Only the statement's own CTEs and subqueries are scanned, never a table.
        tables = {line.split()[1] for line in scanned}
        assert tables <= {"CONSTANT", "member", "mine", "total", "page"}
        return
    nodes = _nodes(json.loads(plan)[0]["Plan"])
    # (A membership table of 20 rows is read whole: cheaper than its index.)
    scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
    assert not scanned & {"meeting", "registration", "user"}
    # The member's registrations by user, then each meeting by its key.
    conditions = {node.get("Index Cond", "") for node in nodes}
    assert any(re.match(r"\(+user_id = \$", condition) for condition in conditions), conditions
    assert any(re.fullmatch(r"\(id = r(_\d+)?\.meeting_id\)", c) for c in conditions), conditions


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]
