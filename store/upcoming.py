"""Queries of the upcoming-meetings feed: the total, one page of meetings with their leaders,
and the page's registered-attendee counts; three statements whatever the page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import peewee

from store.models import Meeting, Registration, User
from store.session import transaction

# Statuses that take a meeting off the feed even before it ends.
CLOSED_STATUSES = ("cancel", "complete")


class UpcomingMeetingRow(NamedTuple):
    """One meeting of the page, as stored, with its leader's profile columns (None if none)."""

    id: int
    name: str | None
    start_time: datetime  # naive UTC, as stored
    duration: int  # minutes
    topic: str | None
    description: str | None
    location: str | None
    meeting_series_id: int | None
    max_attendees: int | None
    leader_id: int | None
    leader_first_name: str | None
    leader_last_name: str | None
    leader_avatar_url: str | None


@dataclass(frozen=True)
class UpcomingPage:
    rows: list[UpcomingMeetingRow]
    # Registered attendees per meeting id of the page; a meeting with none is absent.
    registered: dict[int, int]
    # Upcoming meetings across all pages.
    total: int


# The row's columns, in UpcomingMeetingRow's order. The leader comes from the joined user, so
# a leader id without a user row (impossible under the foreign key) reads as no leader.
_PAGE_COLUMNS = (
    Meeting.id,
    Meeting.name,
    Meeting.start_time,
    Meeting.duration,
    Meeting.topic,
    Meeting.meeting_description,
    Meeting.location,
    Meeting.meeting_series,
    Meeting.max_attendees,
    User.id,
    User.first_name,
    User.last_name,
    User.avatar_url,
)


def upcoming_meetings_page(
    scope: Sequence[int],
    now: datetime,
    *,
    meeting_series_id: int | None,
    offset: int,
    limit: int,
) -> UpcomingPage:
    """The meetings of organizations `scope` not ended at `now` (aware) and neither cancelled
    nor complete, by start time then id: `limit` of them from `offset`, with the total.

    A page past the end (an empty feed included) costs the total alone.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    conditions = _upcoming_conditions(scope, now, meeting_series_id)
    with transaction(snapshot=True):
        # Run together, so on SQLite the total and the page read one snapshot.
        total = _total(conditions)
        if offset >= total:
            return UpcomingPage([], {}, total)
        rows = _page(conditions, offset, limit)
        registered = _registered_counts([row.id for row in rows]) if rows else {}
    return UpcomingPage(rows, registered, total)


def _upcoming_conditions(
    scope: Sequence[int], now: datetime, meeting_series_id: int | None
) -> list[peewee.Expression]:
    stored_now = now.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC
    conditions = [
        Meeting.organization.in_(list(scope)),
        Meeting.end_time > stored_now,
        Meeting.status.not_in(CLOSED_STATUSES),
    ]
    if meeting_series_id is not None:
        # The organization condition above already scopes the series: a series of another
        # organization has no meeting in scope (the loader keeps a meeting's series in the
        # meeting's own organization), so its id gives an empty list.
        conditions.append(Meeting.meeting_series == meeting_series_id)
    return conditions


def _total(conditions: list[peewee.Expression]) -> int:
    query = Meeting.select(peewee.fn.COUNT(Meeting.id)).where(*conditions)
    return int(query.scalar() or 0)


def _page(conditions: list[peewee.Expression], offset: int, limit: int) -> list[UpcomingMeetingRow]:
    # The page's ids are picked first, from the meeting table alone, and only those rows are
    # joined to their meeting and leader: joining before the sort would join every upcoming
    # meeting (a hash of the whole user table on PostgreSQL) to keep `limit` of them.
    page_ids = (
        Meeting.select(Meeting.id)
        .where(*conditions)
        .order_by(Meeting.start_time, Meeting.id)
        .limit(limit)
        .offset(offset)
        .alias("page")
    )
    query = (
        Meeting.select(*_PAGE_COLUMNS)
        .join(page_ids, on=(Meeting.id == page_ids.c.id))
        .join_from(Meeting, User, peewee.JOIN.LEFT_OUTER, on=(Meeting.group_leader == User.id))
        .order_by(Meeting.start_time, Meeting.id)
        .tuples()
    )
    return [UpcomingMeetingRow._make(row) for row in _tuples(query)]


def _registered_counts(meeting_ids: list[int]) -> dict[int, int]:
    """Registrations with status registered per meeting, the meeting's own leader excepted."""
    not_the_leader = Meeting.group_leader.is_null() | (Registration.user != Meeting.group_leader)
    query = (
        Registration.select(Registration.meeting, peewee.fn.COUNT(Registration.id))
        .join(Meeting, on=(Registration.meeting == Meeting.id))
        .where(
            Registration.meeting.in_(meeting_ids),
            # Said of both sides, or PostgreSQL hashes the whole meeting table for the join.
            Meeting.id.in_(meeting_ids),
            Registration.status == "registered",
            not_the_leader,
        )
        .group_by(Registration.meeting)
        .tuples()
    )
    return {int(meeting_id): int(count) for meeting_id, count in _tuples(query)}


def _tuples(query: peewee.ModelSelect[Any]) -> list[tuple[Any, ...]]:
    # The stubs type every select as yielding model instances, whatever .tuples() asks for.
    return cast(list[tuple[Any, ...]], list(query))
