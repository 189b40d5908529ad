"""Queries of the upcoming-meetings feed: the total, one page of meetings with their leaders,
and the page's registered-attendee counts, whatever the page size in one statement on
PostgreSQL (no transaction to begin and commit: one statement reads one snapshot; see
_postgres_feed; two when the total must be counted afresh) and in two on SQLite (the total,
then the page and its counts as one row: see _one_row_page).

Two things keep a page's cost independent of how many meetings an organization has:
- The page is read in start-time order from the (organization, start_time, id) index, from
  `now` less the organization's longest meeting: a meeting that has not ended by `now`
  started after that (its end_time is its start_time plus its duration, as stored), so the
  past, which is most of the table, is never scanned. The longest duration comes from the
  (organization, duration) index, inside the same statement.
- The total (every upcoming meeting, 14% of a typical table) is counted once per snapshot
  of the data (store.snapshots) and then carried forward in time: the meetings upcoming now
  are those upcoming at the counted instant less those that ended since, a short range of the
  (organization, end_time, status, start_time) index (store.carried, the mechanism the
  export's counts share). It is recounted after CARRY_WITHIN, and at once whenever the data
  changed. The carried count is exact, not an estimate. Counted afresh, the meetings from
  tomorrow on come from the stored day counts (store.meeting_days), and only the rest of
  today, from `now` less the longest meeting, is counted on the index (_Shape.count).
- Deep pages (DEEP_OFFSET on, no series) start on the day the stored day counts place them
  (store.export.positions), not after every upcoming meeting before them.

The statements are written here as SQL text, once per shape of request (database, number
of organizations in scope, series filter or not), and then
only executed: profiled, building them with the query builder on every request cost more than
running them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from store.carried import CarriedReadings
from store.database import database_proxy, is_sqlite
from store.export.filters import ExportFilter
from store.export.positions import longest_minutes, page_start, piece_counts
from store.session import connected, snapshot_read
from store.snapshots import POSTGRES_SNAPSHOT_SQL, snapshot_value, sqlite_token, sqlite_version

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


# (scope, series) -> the last total counted, with the snapshot and the instant (naive UTC,
# as stored) it was counted at; carried forwards only (store.carried).
_TOTALS: CarriedReadings[tuple[tuple[int, ...], int | None], int] = CarriedReadings(
    1024, backwards=False
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
    stored_now = now.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC
    deep = meeting_series_id is None and offset >= DEEP_OFFSET
    sql = _statements(is_sqlite(database_proxy.obj), len(scope), meeting_series_id is not None)
    params = sql.params(scope, meeting_series_id, stored_now)
    key = (tuple(scope), meeting_series_id)
    if not sql.sqlite:
        if not deep:
            values = {**params, "limit": limit, "offset": offset}
            return _postgres_page(sql, values, key, stored_now)
        # The total first (a page of none): past the end, it is all a page costs.
        head = _postgres_page(sql, {**params, "limit": 0, "offset": 0}, key, stored_now)
        if offset >= head.total:
            return head
        return _deep_page(scope, now, offset, limit)
    with snapshot_read():
        # Run together, so the total and the page read one snapshot. The total is the
        # transaction's first statement: the one that fixes its snapshot.
        total = _sqlite_total(sql, params, key, stored_now)
        if offset >= total:
            return UpcomingPage([], {}, total)
        if deep:
            return _deep_page(scope, now, offset, limit)
        page = database_proxy.execute_sql(sql.page, {**params, "limit": limit, "offset": offset})
        (array,) = page.fetchone()
    return _sqlite_page(array, total)


def _sqlite_page(array: str, total: int) -> UpcomingPage:
    """SQLite: the page from one JSON array of [*UpcomingMeetingRow, registered] (see
    _one_row_page)."""
    counted = sorted(
        ((_row(values[:-1], True), values[-1]) for values in orjson.loads(array)),
        key=lambda pair: (pair[0].start_time, pair[0].id),
    )
    rows = [row for row, _ in counted]
    return UpcomingPage(rows, {row.id: count for row, count in counted if count}, total)


def _row(values: Sequence[Any], sqlite: bool) -> UpcomingMeetingRow:
    row = UpcomingMeetingRow._make(values)
    if sqlite and isinstance(row.start_time, str):
        # SQLite keeps datetimes as ISO text ("2026-05-23 15:00:00[.ffffff]").
        return row._replace(start_time=datetime.fromisoformat(row.start_time))
    return row


@dataclass(frozen=True)
class _Statements:
    """The feed's SQL for one shape of request; parameters are named."""

    sqlite: bool
    count: str  # every upcoming meeting at :now
    ended_since: str  # meetings in scope with :counted_at < end_time <= :now
    # SQLite: UpcomingMeetingRow columns of :limit meetings from :offset, with their
    # registered counts, as one row (_one_row_page). PostgreSQL: unused.
    page: str
    # PostgreSQL: the total, the snapshot's token and the page with its registered counts,
    # in one statement (_postgres_feed): the total counted, or carried from :base at :token.
    counted_feed: str
    carried_feed: str
    scope_size: int

    def params(self, scope: Sequence[int], series: int | None, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {f"o{index}": org for index, org in enumerate(scope)}
        if series is not None:
            values["series"] = series
        values["now"] = _stored(now, self.sqlite)
        if self.sqlite:
            # datetime() drops the fraction of a second, which only widens the page's range.
            values["now_seconds"] = now.strftime("%Y-%m-%d %H:%M:%S")
        if series is None:
            # The first day the stored day counts give the total of (see _Shape.count).
            tomorrow = now.date() + timedelta(days=1)
            values["tomorrow"] = tomorrow.isoformat() if self.sqlite else tomorrow
            values["tomorrow_start"] = _stored(datetime.combine(tomorrow, time()), self.sqlite)
        return values


def _stored(moment: datetime, sqlite: bool) -> Any:
    # As sqlite3 would adapt a naive datetime (and as the loader stored it): ISO text.
    return moment.isoformat(" ") if sqlite else moment


@dataclass(frozen=True)
class _Shape:
    """One shape of request, and the pieces of SQL its statements are written from."""

    sqlite: bool
    scope_size: int
    has_series: bool
    # A deep page: read from :from, the day store.export.positions found it starts on.
    deep: bool = False

    def p(self, name: str) -> str:
        """The placeholder of a named parameter."""
        return f":{name}" if self.sqlite else f"%({name})s"

    def in_scope(self, alias: str) -> str:
        """Meeting `alias` is in scope and neither cancelled nor complete."""
        organizations = ", ".join(self.p(f"o{index}") for index in range(self.scope_size))
        closed = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
        conditions = [
            f"{alias}.organization_id IN ({organizations})",
            f"{alias}.status NOT IN ({closed})",
        ]
        if self.has_series:
            # The organization condition already scopes the series: a series of another
            # organization has no meeting in scope (the loader keeps a meeting's series in
            # the meeting's own organization), so its id gives an empty list.
            conditions.append(f"{alias}.meeting_series_id = {self.p('series')}")
        return " AND ".join(conditions)

    def earliest_start(self) -> str:
        """`now` less the longest meeting in scope: no meeting that started earlier is still
        going on (see the module doc)."""
        p = self.p
        longest = [
            f'COALESCE((SELECT MAX(d.duration) FROM "meeting" AS d '
            f"WHERE d.organization_id = {p(f'o{index}')}), 0)"
            for index in range(self.scope_size)
        ]
        if self.sqlite:
            minutes = longest[0] if self.scope_size == 1 else f"max({', '.join(longest)})"
            return f"datetime({p('now_seconds')}, printf('-%d minutes', {minutes}))"
        minutes = longest[0] if self.scope_size == 1 else f"GREATEST({', '.join(longest)})"
        return f"{p('now')} - {minutes} * interval '1 minute'"

    def lower_bound(self) -> str:
        """The page's one lower bound on the start (beside a second one, SQLite ranges the
        index over the first and filters on the other)."""
        if not self.deep:
            return self.earliest_start()
        later = "max" if self.sqlite else "GREATEST"
        return f"{later}({self.p('from')}, {self.earliest_start()})"

    def count(self) -> str:
        """Every upcoming meeting in scope at :now. Without a series: those starting from
        tomorrow (UTC) on, which have not ended and are upcoming unless cancelled or complete,
        added up from the stored day counts (store.meeting_days), and those starting before
        then, from `now` less the longest meeting, counted on the index: a day's meetings at
        most, where counting every upcoming meeting read the index entries of all of them.
        With a series (which the day counts do not hold): counted on its index from `now`
        less the longest meeting."""
        now, in_scope = self.p("now"), self.in_scope("m")
        counted = (
            f'SELECT COUNT(m.id) FROM "meeting" AS m WHERE {in_scope} AND m.end_time > {now} '
            f"AND m.start_time >= {self.earliest_start()}"
        )
        if self.has_series:
            return counted
        organizations = ", ".join(self.p(f"o{index}") for index in range(self.scope_size))
        later = (
            "SELECT COALESCE(SUM(d.scheduled), 0) FROM meeting_day AS d "
            f"WHERE d.organization_id IN ({organizations}) AND d.day >= {self.p('tomorrow')}"
        )
        return f"SELECT ({later}) + ({counted} AND m.start_time < {self.p('tomorrow_start')})"

    def page_rows(self) -> str:
        """FROM ... ORDER BY of the page's meetings joined to their leaders."""
        p = self.p
        # The page's ids are picked first, from the meeting table alone, and only those rows
        # are joined to their meeting and leader: joining before the sort would join every
        # upcoming meeting (a hash of the whole user table on PostgreSQL) to keep `limit`.
        return (
            'FROM "meeting" AS m '
            'JOIN (SELECT s.id FROM "meeting" AS s '
            f"WHERE {self.in_scope('s')} AND s.end_time > {p('now')} "
            f"AND s.start_time >= {self.lower_bound()} "
            # PostgreSQL: a page past the end costs the total alone (a one-time filter).
            f"{'' if self.sqlite else 'AND (SELECT t.total FROM t) > %(offset)s '}"
            f"ORDER BY s.start_time, s.id LIMIT {p('limit')} OFFSET {p('offset')}) AS page "
            "ON m.id = page.id "
            # A leader id without a user row (impossible under the foreign key) reads as none.
            'LEFT OUTER JOIN "user" AS u ON m.group_leader_id = u.id '
            "ORDER BY m.start_time, m.id"
        )


@lru_cache(maxsize=64)
def _statements(sqlite: bool, scope_size: int, has_series: bool, deep: bool = False) -> _Statements:
    """The statements of one shape of request; for a deep page (`deep`), the PostgreSQL
    feed statement (counted_feed) takes its total as :known_total instead of counting it."""
    shape = _Shape(sqlite, scope_size, has_series, deep)
    now, in_scope = shape.p("now"), shape.in_scope("m")
    count = shape.count()
    ended_since = (
        f'SELECT COUNT(m.id) FROM "meeting" AS m WHERE {in_scope} '
        f"AND m.end_time > {shape.p('counted_at')} AND m.end_time <= {now}"
    )
    columns = [*PAGE_COLUMNS, f"({REGISTERED_OF_M})"]
    page_rows = shape.page_rows()
    if sqlite:
        return _Statements(
            sqlite, count, ended_since, _one_row_page(columns, page_rows), "", "", scope_size
        )
    if deep:
        known = _postgres_feed("%(known_total)s", columns, page_rows)
        return _Statements(sqlite, count, ended_since, "", known, "", scope_size)
    # NULL when the snapshot is not the cached one: the caller then counts afresh
    # (counted_feed). Planned on every request, a count in an ELSE branch cost more than
    # the second statement it saves after a write.
    carried = f"CASE WHEN {POSTGRES_SNAPSHOT_SQL} = %(token)s THEN %(base)s - ({ended_since}) END"

    return _Statements(
        sqlite,
        count,
        ended_since,
        "",
        _postgres_feed(f"({count})", columns, page_rows),
        _postgres_feed(carried, columns, page_rows),
        scope_size,
    )


# UpcomingMeetingRow's columns, in its order (a member's page reads them too).
PAGE_COLUMNS = (
    "m.id",
    "m.name",
    "m.start_time",
    "m.duration",
    "m.topic",
    "m.meeting_description",
    "m.location",
    "m.meeting_series_id",
    "m.max_attendees",
    "u.id",
    "u.first_name",
    "u.last_name",
    "u.avatar_url",
)


# The registered attendees of one page meeting `m`, its own leader excepted.
REGISTERED_OF_M = (
    'SELECT COUNT(c.id) FROM "registration" AS c WHERE c.meeting_id = m.id '
    "AND c.status = 'registered' AND (m.group_leader_id IS NULL OR c.user_id <> m.group_leader_id)"
)


def _one_row_page(columns: Sequence[str], rows: str) -> str:
    """SQLite: the page's `columns` (each meeting's registered count last) as one row holding
    a JSON array of arrays.

    Python's sqlite3 lets go of the interpreter lock around every row it steps, and under
    load every let-go hands the lock to another thread and waits to get it back (see
    store.session): a page of 20 meetings and their 20 counts took about 45 of those. As one
    row, the page takes two, whatever its size. SQLite does not promise the array's order:
    the rows are sorted again when read.
    """
    named = ", ".join(f"{column} AS c{index}" for index, column in enumerate(columns))
    values = ", ".join(f"p.c{index}" for index in range(len(columns)))
    return f"SELECT json_group_array(json_array({values})) FROM (SELECT {named} {rows}) AS p"


def _postgres_feed(total: str, columns: Sequence[str], rows: str) -> str:
    """PostgreSQL: the feed in one statement, so in one snapshot without a transaction. Its
    rows are (total, token, *UpcomingMeetingRow, registered); one row of nulls but the first
    two when the page is empty. The page's subquery reads the total from `t` (see page_rows).
    """
    named = ", ".join(f"{column} AS c{index}" for index, column in enumerate(columns))
    return (
        f"WITH t AS MATERIALIZED (SELECT {total} AS total, {POSTGRES_SNAPSHOT_SQL} AS token) "
        f"SELECT t.total, t.token, p.* FROM t LEFT OUTER JOIN (SELECT {named} {rows}) AS p "
        "ON TRUE ORDER BY p.c2, p.c0"
    )


def _postgres_page(
    sql: _Statements,
    params: dict[str, Any],
    key: tuple[tuple[int, ...], int | None],
    now: datetime,
) -> UpcomingPage:
    """PostgreSQL: the page and its total in one statement. The snapshot is compared inside
    it; when it differs from the cached count's, the total comes back NULL and the page
    empty, and a second statement counts afresh (after a write, or every CARRY_WITHIN)."""
    cached = _TOTALS.latest(key, now)
    if cached is None:
        statement, values = sql.counted_feed, params
    else:
        statement = sql.carried_feed
        values = {**params, "token": cached.token, "base": cached.value, "counted_at": cached.at}
    with connected():
        results = database_proxy.execute_sql(statement, values).fetchall()
        if results[0][0] is None:  # the data changed since the cached count: count afresh
            cached, values = None, params
            results = database_proxy.execute_sql(sql.counted_feed, values).fetchall()
    total, token = int(results[0][0] or 0), snapshot_value(results[0][1])
    if cached is None or cached.token != token:
        _TOTALS.keep(key, token, now, total)
    return _postgres_rows(results, total)


def _postgres_rows(results: list[Any], total: int) -> UpcomingPage:
    rows = [(_row(values[2:-1], False), values[-1]) for values in results if values[2] is not None]
    registered = {row.id: int(count) for row, count in rows if count}
    return UpcomingPage([row for row, _ in rows], registered, total)


# From this offset on, a page of the feed (without a series) is found from the stored day
# counts, as the export's pages are (store.export.positions), instead of stepping over every
# upcoming meeting before it: up to here, stepping costs less than finding the day.
DEEP_OFFSET = 200
# The lower bound of a deep page that starts on no particular day.
_NO_DAY = datetime(1, 1, 1)


def _deep_page(scope: Sequence[int], now: datetime, offset: int, limit: int) -> UpcomingPage:
    """A page at `offset` >= DEEP_OFFSET: its total and its day from the stored day counts,
    then `limit` meetings from that day, in one snapshot (a transaction on PostgreSQL; on
    SQLite, the caller's, whose total this one agrees with)."""
    sqlite = is_sqlite(database_proxy.obj)
    sql = _statements(sqlite, len(scope), False, True)
    stored_now = now.astimezone(UTC).replace(tzinfo=None)
    selected = ExportFilter(organization_ids=tuple(scope), upcoming_at=now)
    with snapshot_read():
        pieces, counts = piece_counts(selected, longest_minutes(scope))
        total = sum(counts)
        if offset >= total:
            return UpcomingPage([], {}, total)
        read, skip = page_start(selected, offset, pieces, counts)
        start = (
            read.starts_from.astimezone(UTC).replace(tzinfo=None) if read.starts_from else _NO_DAY
        )
        values = {
            **sql.params(scope, None, stored_now),
            "limit": limit,
            "offset": skip,
            "from": _stored(start, sqlite),
            "known_total": total,
        }
        results = database_proxy.execute_sql(sql.page if sqlite else sql.counted_feed, values)
        if sqlite:
            return _sqlite_page(results.fetchone()[0], total)
        return _postgres_rows(results.fetchall(), total)


def _sqlite_total(
    sql: _Statements,
    params: dict[str, Any],
    key: tuple[tuple[int, ...], int | None],
    now: datetime,
) -> int:
    """SQLite: upcoming meetings at `now`, in one statement: carried forward from the last
    count of this snapshot when there is one (see the module's doc), else counted."""
    db = database_proxy.obj
    cached = _TOTALS.latest(key, now)

    def scalar(statement: str, values: dict[str, Any]) -> int:
        row = database_proxy.execute_sql(statement, values).fetchone()
        return int(row[0] or 0)

    before = sqlite_version(db)
    carried = cached is not None and cached.token == before
    if cached is not None and carried:
        assert cached.at is not None
        ended = scalar(sql.ended_since, {**params, "counted_at": _stored(cached.at, True)})
        total = cached.value - ended
    else:
        total = scalar(sql.count, params)
    token = sqlite_token(before, sqlite_version(db))
    if carried and token is None:
        # A write landed while the count ran: this snapshot may not be the cached one.
        total = scalar(sql.count, params)
    if not carried:
        _TOTALS.keep(key, token, now, total)
    return total
