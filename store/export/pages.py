"""Pages of the export: the total and one page of rows from one snapshot, cheap however deep
the page and in whatever order pages are asked. Counts and the day a page starts on come from
the stored day counts (store.export.positions), never from stepping through the history.
Within one snapshot the total is kept (for a filter that does not move, with the counts that
place a page), and a page that follows one already served starts from that page's last key
(a keyset read). Counts and page starts are carried between instants of a set that moves
with `now` (store.carried).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
import peewee

from store.caches import LatestCache
from store.carried import CarriedReadings, Reading
from store.database import database_proxy, is_sqlite
from store.export.filters import (
    CLOSED_STATUSES,
    EPOCH,
    Column,
    ExportFilter,
    Row,
    Slot,
    as_bytes,
    aware,
    bound_values,
    column_expression,
    filter_conditions,
    flag_positions,
    in_export_order,
    json_select,
    naive_utc,
    shape_of,
    slot,
    template_of,
    with_bools,
)
from store.export.positions import Piece, longest_minutes, page_start, piece_counts
from store.models import Meeting
from store.session import snapshot_read
from store.snapshots import snapshot_token


def _count(selected: ExportFilter, token: Hashable | None) -> int:
    """The filter's count: stored day counts and a few days counted row by row
    (store.export.positions), never a count of the organization's whole history."""
    return sum(_piece_counts(selected, token)[1])


def _piece_counts(selected: ExportFilter, token: Hashable | None) -> tuple[list[Piece], list[int]]:
    """The filter's pieces and their counts (store.export.positions), which both count it and
    place a page in it; kept per snapshot for a filter that does not move (_PIECES)."""
    kept = token is not None and _Moving.of(selected).at is None
    found = _PIECES.get(database_proxy.obj, selected) if kept else None
    if found is not None and found[0] == token:
        return found[1]
    counted = piece_counts(selected, longest_minutes(selected.organization_ids))
    if kept:
        _PIECES.put(database_proxy.obj, selected, token, counted)
    return counted


# Per export filter: its count in a snapshot. Per (filter, page size, offset): the sort key
# of the last meeting before that offset, in a snapshot, so that the next page of a walk
# starts right there (a keyset read) instead of skipping `offset` index entries. Both are
# keyed by the filter without its moving instant (_Moving) and hold the instant they were
# read at: the default export (`all`) is evaluated at each request's `now`.
_COUNTS: CarriedReadings[ExportFilter, int] = CarriedReadings(256, backwards=True)
_PAGE_STARTS: CarriedReadings[tuple[ExportFilter, int, int], tuple[Any, int]] = CarriedReadings(
    4096, backwards=True
)
# Per export filter that does not move (a custom range, a calendar preset): its pieces and
# their counts in a snapshot, so that a page not following one already served is placed
# without counting them again (measured in the README's "Performance"). A moving filter's
# pieces change with its instant: counted each time.
_PIECES: LatestCache[ExportFilter, tuple[list[Piece], list[int]]] = LatestCache(256)


@dataclass(frozen=True)
class _Moving:
    """A filter whose set moves with its instant (`all`, `all_past`: meetings that ended by
    `now`; `all_upcoming`: not ended by `now`), split into the rest of the filter (the caches'
    key) and the instant.

    Between two instants `a < b` of one snapshot, the only meetings that join or leave the
    set are those ending in (a, b] (and not complete: a complete meeting is past whenever it
    ends, and never upcoming), a short range of the (organization, end_time, ...) index. So a
    count read at `a` is carried to `b` exactly by counting that range, and a page start read
    at `a` still starts the same page at `b` when none of those meetings sorts before it.
    """

    key: ExportFilter
    at: datetime | None  # None: the filter does not move
    past: bool  # the set grows with time (ended by now) rather than shrinks

    @staticmethod
    def of(selected: ExportFilter) -> _Moving:
        past, upcoming = selected.ended_or_complete_at, selected.upcoming_at
        if past is not None and upcoming is None:
            return _Moving(replace(selected, ended_or_complete_at=EPOCH), past, True)
        if upcoming is not None and past is None:
            return _Moving(replace(selected, upcoming_at=EPOCH), upcoming, False)
        return _Moving(selected, None, False)

    def moved(self, then: datetime, before: tuple[Any, int] | None = None) -> tuple[int, int]:
        """Meetings that joined the set between `then` and this filter's instant, less those
        that left it (negative when it shrank): in all, and among those sorting at or before
        the (start_time, id) key `before` (0 without one). One statement."""
        assert self.at is not None
        if self.at == then:
            return 0, 0
        rest = replace(self.key, ended_or_complete_at=None, upcoming_at=None)
        sql, template = _moved_sql(
            is_sqlite(database_proxy.obj), shape_of(rest), self.past, before is not None
        )
        low, high = sorted((naive_utc(then), naive_utc(self.at)))
        values = bound_values(rest, low=low, high=high)
        if before is not None:
            values.update(key_start=before[0], key_id=before[1])
        params = [values[value.name] if isinstance(value, Slot) else value for value in template]
        row = database_proxy.execute_sql(sql, params).fetchone()
        # Later than `then`: the past grew and the upcoming shrank; earlier: the other way.
        sign = 1 if self.past == (self.at > then) else -1
        return sign * int(row[0] or 0), sign * int(row[1] or 0)


@lru_cache(maxsize=64)
def _moved_sql(
    sqlite: bool, shape: tuple[int, tuple[bool, ...], bool], past: bool, with_key: bool
) -> tuple[str, tuple[Any, ...]]:
    """The statement of _Moving.moved for one shape of the rest of the filter: its SQL and its
    parameters with a Slot for each value (see _page_keys_sql)."""
    del sqlite  # part of the cache key: the SQL is the connected database's
    template = template_of(shape)
    closed = ("complete",) if past else CLOSED_STATUSES
    conditions = [
        Meeting.organization.in_([slot(f"o{index}") for index in range(shape[0])]),
        *filter_conditions(template, slots=True),
        Meeting.end_time > slot("low"),
        Meeting.end_time <= slot("high"),
        Meeting.status.not_in(closed),
    ]
    before: Any = peewee.Value(0)
    if with_key:
        key_start = slot("key_start")
        sorts_before = (Meeting.start_time < key_start) | (
            (Meeting.start_time == key_start) & (Meeting.id <= slot("key_id"))
        )
        before = peewee.fn.SUM(peewee.Case(None, ((sorts_before, 1),), 0))
    query = Meeting.select(peewee.fn.COUNT(peewee.SQL("*")), before).where(*conditions)
    sql, params = query.sql()
    return sql, tuple(params)


def _carried(
    selected: ExportFilter, token: Hashable | None, limit: int, offset: int
) -> tuple[int, tuple[Any, int] | None]:
    """The filter's count in this snapshot, and the sort key of the meeting just before
    `offset` if this snapshot read it: cached for this instant, carried from another one
    (_Moving: one statement for both), or (the count) counted. The count is then cached for
    this instant, so the next page carries it over a short range again."""
    moving = _Moving.of(selected)
    counted = _COUNTS.in_snapshot(moving.key, moving.at, token)
    started = (
        _PAGE_STARTS.in_snapshot((moving.key, limit, offset), moving.at, token) if offset else None
    )
    total, start = _carry(moving, counted, started)
    if total is None:
        total = _count(selected, token)
    if counted is None or counted.at != moving.at:
        _COUNTS.keep(moving.key, token, moving.at, total)
    return int(total), (tuple(start) if start is not None else None)


def _carry(
    moving: _Moving, counted: Reading[int] | None, started: Reading[tuple[Any, int]] | None
) -> tuple[int | None, tuple[Any, int] | None]:
    """The count and page start found, carried to the filter's instant: the count by the
    meetings that moved since, the page start only if none of them sorts before it."""
    if moving.at is None:  # a filter that does not move: cached as it is
        total = counted.value if counted is not None else None
        return total, started.value if started is not None else None
    total, start = None, None
    if counted is not None and started is not None and counted.at == started.at:
        assert counted.at is not None
        joined, before = moving.moved(counted.at, before=started.value)
        return counted.value + joined, started.value if before == 0 else None
    if counted is not None:
        assert counted.at is not None
        total = counted.value + moving.moved(counted.at)[0]
    if started is not None:
        assert started.at is not None
        if moving.moved(started.at, before=started.value)[1] == 0:
            start = started.value
    return total, start


def _page_keys(
    selected: ExportFilter,
    token: Hashable | None,
    total: int,
    offset: int,
    limit: int,
    start: tuple[Any, int] | None,
) -> list[tuple[Any, int]]:
    """(start_time, id) of the page's meetings, in order, read on the index alone: after
    `start`, the previous page's last key, when this snapshot has it (_carried), else from
    the day the page starts on, found from the stored day counts (store.export.positions),
    so that any page, first, middle or last, steps over at most a day's meetings."""
    rows = min(limit, total - offset)
    values: dict[str, Any] = {"limit": rows}
    if start is not None:
        mode = "after"
        read = _from_key(selected, start)
        values.update(after_start=start[0], after_id=start[1])
    else:
        mode = "forwards"
        pieces, counts = _piece_counts(selected, token)
        read, values["offset"] = page_start(selected, offset, pieces, counts)
    sql, template = _page_keys_sql(is_sqlite(database_proxy.obj), shape_of(read), mode)
    values.update(bound_values(read))
    params = [values[value.name] if isinstance(value, Slot) else value for value in template]
    cursor = database_proxy.execute_sql(sql, params)
    found = [(row[0], int(row[1])) for row in cursor.fetchall()]
    if found:
        moving = _Moving.of(selected)
        _PAGE_STARTS.keep((moving.key, limit, offset + len(found)), token, moving.at, found[-1])
    return found


def _from_key(selected: ExportFilter, start: tuple[Any, int]) -> ExportFilter:
    """The filter of a keyset page read after `start`: the key's start time becomes the
    range's lower bound (a second lower bound beside the filter's own would leave SQLite
    scanning from the first)."""
    moment = aware(start[0])
    if selected.starts_from is None or selected.starts_from < moment:
        return replace(selected, starts_from=moment)
    return selected


@lru_cache(maxsize=256)
def _page_keys_sql(
    sqlite: bool, shape: tuple[int, tuple[bool, ...], bool], mode: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement of _page_keys for one shape of filter and one way of reading (from an
    offset, or after a key): its SQL, and its parameters with a Slot for each value. Written
    once per shape: rendering it per page cost more than the read (profiled: ~40% of a
    page's time in the store)."""
    del sqlite  # part of the cache key: the SQL is the connected database's
    template = template_of(shape)
    keys = [Meeting.start_time, Meeting.id]
    if mode == "after":
        after = (slot("after_start"), slot("after_id"))
        query = in_export_order(template, keys, after=after, slots=True).limit(slot("limit"))
    else:
        query = in_export_order(template, keys, slots=True)
        query = query.limit(slot("limit")).offset(slot("offset"))
    sql, params = query.sql()
    return sql, tuple(params)


def export_page(
    selected: ExportFilter,
    columns: Sequence[Column],
    *,
    offset: int,
    limit: int,
    json_rows: bool = False,
) -> tuple[int, list[Row]]:
    """The total count and one page of rows, from one snapshot.

    The page's ids are chosen first on the narrow index order, and only those rows are read
    in full. Within one snapshot of the data (store.snapshots) the count is counted once, and
    a page that follows one already served starts from that page's last key; otherwise it
    starts on the day the stored day counts place it. A page past the end reads no rows.
    """
    with snapshot_read():
        token = snapshot_token()
        total, start = _carried(selected, token, limit, offset)
        if offset >= total or limit <= 0 or not columns:
            return total, []
        ids = [
            meeting_id for _, meeting_id in _page_keys(selected, token, total, offset, limit, start)
        ]
        if not ids:
            return total, []

        sqlite = is_sqlite(database_proxy.obj)
        sql, template, ids_at = _rows_by_ids(sqlite, tuple(columns), json_rows)
        params = list(template)
        params[ids_at] = orjson.dumps(ids).decode() if sqlite else ids
        cursor = database_proxy.execute_sql(sql, params)
        if json_rows:
            return total, as_bytes(cursor.fetchall())
        return total, with_bools(cursor.fetchall(), flag_positions(columns))


class _IdsMarker:
    """Stands for the page's ids while a statement is written, to find their parameter."""


@lru_cache(maxsize=256)
def _rows_by_ids(
    sqlite: bool, columns: tuple[Column, ...], json_rows: bool
) -> tuple[str, tuple[Any, ...], int]:
    """The statement reading a page's rows by id, in export order: its SQL, its parameters,
    and which parameter holds the ids (one parameter: a JSON array on SQLite, an array on
    PostgreSQL). Written once per shape: rendering it per page cost more than the read."""
    marker = _IdsMarker()
    if sqlite:
        in_page = peewee.Expression(
            Meeting.id, "IN", peewee.SQL("(SELECT value FROM json_each(?))", [marker])
        )
    else:
        in_page = peewee.Expression(Meeting.id, "=", peewee.SQL("ANY(%s)", [marker]))

    def page_rows(expressions: Sequence[Any]) -> peewee.SelectBase:
        return Meeting.select(*expressions).where(in_page).order_by(Meeting.start_time, Meeting.id)

    # The filter plays no part in a read by id (its ids were chosen under it).
    unused = ExportFilter(organization_ids=())
    if json_rows:
        sql, params = json_select(unused, columns, page_rows)
    else:
        sql, params = page_rows([column_expression(column.name) for column in columns]).sql()
    slots = [index for index, value in enumerate(params) if value is marker]
    assert len(slots) == 1, "the page's ids must be exactly one parameter"
    return sql, tuple(params), slots[0]
