"""Queries of a member's upcoming meetings: the member, the total and one page of meetings with
their leaders, the member's registrations and the registered-attendee counts, in one
statement on either database, whatever the page size.

A page starts from the member, not from the organization's meetings: the (user, status,
meeting) index of the registration table gives the member's live registrations (registered
or waitlisted) with their meeting ids, and each meeting is read by its primary key and kept
when it is upcoming by the feed's rule and in the feed's scope. So a page costs the member's
live registrations (a few hundred for a member who signed up weekly for years), whatever the
page asked for and however many meetings the organization has: a page asked out of order
costs what the first one does. The total and the page read the same set, computed once
(MATERIALIZED), and only the page's rows are joined to their meeting, leader and
registration.

The statement is written here as SQL text once per shape of request (database, number of
organizations in scope), as store.upcoming does, and then only executed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from store.database import database_proxy, is_sqlite
from store.errors import NotFound
from store.session import connected, sqlite_turn
from store.upcoming import (
    CLOSED_STATUSES,
    PAGE_COLUMNS,
    REGISTERED_OF_M,
    UpcomingMeetingRow,
)

_LOGGER = logging.getLogger(__name__)

# The registration statuses that put a meeting on a member's schedule.
LISTED_STATUSES = ("registered", "waitlisted")
MEMBER_NOT_FOUND = "Member not found"
# ResourceInfo.resource_type of a member that was not found.
MEMBER_RESOURCE = "member"


class MemberMeetingRow(NamedTuple):
    """One meeting of the member's page, with the member's registration for it."""

    meeting: UpcomingMeetingRow
    registration_status: str  # one of LISTED_STATUSES
    registered_at: datetime | None  # naive UTC, as stored
    registered_attendees: int


@dataclass(frozen=True)
class MemberUpcomingPage:
    rows: list[MemberMeetingRow]
    # The member's upcoming meetings across all pages.
    total: int


def member_upcoming_meetings_page(
    organization_id: int,
    idp_id: str,
    scope: Sequence[int],
    now: datetime,
    *,
    offset: int,
    limit: int,
) -> MemberUpcomingPage:
    """The meetings of organizations `scope` not ended at `now` (aware) and neither cancelled
    nor complete, that the member of `organization_id` with `idp_id` is registered or
    waitlisted for, by start time then id: `limit` of them from `offset`, with the total.

    Raises NotFound when the organization has no member with that idp_id.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if "\0" in idp_id:
        # No stored idp_id holds NUL (the loader refuses it; PostgreSQL text cannot hold it).
        raise _member_not_found(organization_id, idp_id)
    stored_now = now.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC
    sqlite = is_sqlite(database_proxy.obj)
    params: dict[str, Any] = {f"o{index}": org for index, org in enumerate(scope)}
    params |= {
        "org": organization_id,
        "idp": idp_id,
        # As sqlite3 would adapt a naive datetime (and as the loader stored it): ISO text.
        "now": stored_now.isoformat(" ") if sqlite else stored_now,
        "limit": limit,
        "offset": offset,
    }
    with sqlite_turn(), connected():
        results = database_proxy.execute_sql(_statement(sqlite, len(scope)), params).fetchall()
    member, total = results[0][0], int(results[0][1] or 0)
    if member is None:
        raise _member_not_found(organization_id, idp_id)
    if sqlite:
        # One JSON array of the page's rows; SQLite does not promise its order.
        rows = [_member_row(values, True) for values in orjson.loads(results[0][2])]
        rows.sort(key=lambda row: (row.meeting.start_time, row.meeting.id))
    else:
        rows = [_member_row(values[2:], False) for values in results if values[2] is not None]
    return MemberUpcomingPage(rows, total)


def _member_not_found(organization_id: int, idp_id: str) -> NotFound:
    return NotFound(
        MEMBER_NOT_FOUND,
        resource_type=MEMBER_RESOURCE,
        resource_name=idp_id,
        owner=f"organizations/{organization_id}",
    )


def _member_row(values: Sequence[Any], sqlite: bool) -> MemberMeetingRow:
    meeting = UpcomingMeetingRow._make(values[:_MEETING_COLUMNS])
    status, registered_at, count = values[_MEETING_COLUMNS:]
    if sqlite:
        # SQLite keeps datetimes as ISO text ("2026-05-23 15:00:00[.ffffff]").
        start_time: Any = meeting.start_time
        meeting = meeting._replace(start_time=datetime.fromisoformat(start_time))
        if registered_at is not None:
            registered_at = datetime.fromisoformat(registered_at)
    return MemberMeetingRow(meeting, status, registered_at, int(count or 0))


_MEETING_COLUMNS = len(PAGE_COLUMNS)


@lru_cache(maxsize=16)
def _statement(sqlite: bool, scope_size: int) -> str:
    """The member, the total and the page, for `scope_size` organizations in scope."""

    def p(name: str) -> str:
        return f":{name}" if sqlite else f"%({name})s"

    organizations = ", ".join(p(f"o{index}") for index in range(scope_size))
    closed = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
    listed = ", ".join(f"'{status}'" for status in LISTED_STATUSES)
    upcoming = (
        f"s.organization_id IN ({organizations}) AND s.status NOT IN ({closed}) "
        f"AND s.end_time > {p('now')}"
    )
    if sqlite:
        meetings = f'JOIN "meeting" AS s ON s.id = r.meeting_id AND {upcoming}'
    else:
        # Each meeting by its primary key, whatever the planner guesses of the member's
        # registrations (it plans before the member is known): OFFSET 0 keeps the lateral
        # subquery from being flattened into a join it could turn into a scan of the
        # organization's meetings.
        meetings = (
            'CROSS JOIN LATERAL (SELECT s.id, s.start_time FROM "meeting" AS s '
            f"WHERE s.id = r.meeting_id AND {upcoming} OFFSET 0) AS s"
        )
    # The member's upcoming meetings: the member's live registrations from the (user, status,
    # meeting) index, each meeting by its primary key.
    common = (
        'WITH member AS (SELECT ms.user_id FROM "membership" AS ms '
        f"WHERE ms.organization_id = {p('org')} AND ms.idp_id = {p('idp')}), "
        "mine AS MATERIALIZED (SELECT r.id AS rid, s.id AS mid, s.start_time AS start_time "
        f'FROM "registration" AS r {meetings} '
        f"WHERE r.user_id = (SELECT member.user_id FROM member) AND r.status IN ({listed})), "
        "total AS MATERIALIZED (SELECT COUNT(*) AS n FROM mine) "
    )
    columns = [*PAGE_COLUMNS, "r.status", "r.registered_at", f"({REGISTERED_OF_M})"]
    named = ", ".join(f"{column} AS c{index}" for index, column in enumerate(columns))
    # A page past the end costs the total alone (a one-time filter on the total).
    page = (
        f"SELECT {named} FROM (SELECT mine.rid, mine.mid FROM mine "
        f"WHERE (SELECT total.n FROM total) > {p('offset')} "
        f"ORDER BY mine.start_time, mine.mid LIMIT {p('limit')} OFFSET {p('offset')}) AS page "
        'JOIN "meeting" AS m ON m.id = page.mid '
        'JOIN "registration" AS r ON r.id = page.rid '
        # A leader id without a user row (impossible under the foreign key) reads as none.
        'LEFT OUTER JOIN "user" AS u ON m.group_leader_id = u.id'
    )
    head = "SELECT (SELECT member.user_id FROM member), (SELECT total.n FROM total)"
    if sqlite:
        # One row to step, whatever the page size (see store.upcoming._one_row_page).
        values = ", ".join(f"p.c{index}" for index in range(len(columns)))
        return f"{common}{head}, (SELECT json_group_array(json_array({values})) FROM ({page}) AS p)"
    return (
        f"{common}{head}, p.* FROM (SELECT 1) AS one LEFT OUTER JOIN ({page}) AS p ON TRUE "
        "ORDER BY p.c2, p.c0"
    )
