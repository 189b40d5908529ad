"""The SQL of the meetings export: filters, start-time order, counts, pages, and a cursor read
in batches of plain tuples.

Rows hold the requested columns in the requested order, as the database returns them, except
that `start_time` is already ISO 8601 text (`2026-05-23T15:00:00.000Z`, formatted in SQL),
`price` is never null (0 when unset; an int, float or Decimal), and flags are bools on both
databases. No model object is built per row: this is the hot path of large exports.

Asked for JSON rows (`json_rows=True`), the database writes each row's legacy JSON object
itself (SQLite `json_object`, PostgreSQL `row_to_json`), compact and with the keys in the
requested order, and every row is a 1-tuple of those UTF-8 bytes: Python then only joins a
batch. Profiled on a million rows, building dicts and encoding them took as long as reading
the rows; the database does it for a fraction of that.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import orjson
import peewee
import psycopg2

from store.database import database_proxy, is_sqlite
from store.errors import translate_database_errors
from store.models import Meeting
from store.session import sqlite_turn
from store.snapshots import (
    POSTGRES_SNAPSHOT_SQL,
    LatestCache,
    snapshot_value,
    sqlite_token,
    sqlite_version,
)

Row = Sequence[Any]

# The 18 columns of the legacy page, by their legacy key.
EXPORT_COLUMNS: dict[str, peewee.Field] = {
    "name": Meeting.name,
    "meeting_type": Meeting.meeting_type,
    "start_time": Meeting.start_time,
    "duration": Meeting.duration,
    "status": Meeting.status,
    "topic": Meeting.topic,
    "special_focus": Meeting.special_focus,
    "host": Meeting.host,
    "location": Meeting.location,
    "price": Meeting.price,
    "max_attendees": Meeting.max_attendees,
    "meeting_description": Meeting.meeting_description,
    "group_leader_id": Meeting.group_leader,
    "privacy": Meeting.privacy,
    "eap": Meeting.eap,
    "allow_meeting_donation": Meeting.allow_meeting_donation,
    "invitation_only": Meeting.invitation_only,
    "wait_list": Meeting.wait_list,
}
FLAG_COLUMNS = frozenset(
    name for name, field in EXPORT_COLUMNS.items() if isinstance(field, peewee.BooleanField)
)
# The one column whose legacy JSON key differs from its column key.
JSON_KEYS = {"group_leader_id": "group_leader"}
# Statuses that take a meeting off the upcoming list.
CLOSED_STATUSES = ("cancel", "complete")

# ISO 8601 UTC with milliseconds, as the legacy page prints start times.
_SQLITE_ISO = "%Y-%m-%dT%H:%M:%fZ"
_POSTGRES_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
_SORT_START, _SORT_ID = "export_sort_start", "export_sort_id"
_POSTGRES_CURSOR = "meetings_export"
# peewee's translation of DB-API errors into its own classes, which translate_database_errors
# reads; needed around the raw cursors used here.
_DRIVER_ERRORS: peewee.ExceptionWrapper = vars(peewee)["__exception_wrapper__"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExportFilter:
    """Which meetings an export holds; every instant is an aware datetime, every bound on the
    meeting's start unless its name says otherwise. All conditions given must hold."""

    organization_ids: tuple[int, ...]
    # Meetings that have ended by this instant, or are marked complete.
    ended_or_complete_at: datetime | None = None
    # Meetings that have not ended by this instant and are neither cancelled nor complete.
    upcoming_at: datetime | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    starts_until: datetime | None = None
    eap_only: bool = False


def _naive_utc(instant: datetime) -> datetime:
    # The database stores naive UTC; an aware value would be compared as text on SQLite.
    if instant.tzinfo is None:
        raise ValueError("export bounds must be aware datetimes")
    return instant.astimezone(UTC).replace(tzinfo=None)


def _aware(stored: Any) -> datetime:
    """A start time as read back from the database (naive UTC; text on SQLite), aware."""
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class _Slot:
    """Stands for one named parameter while a statement is written once (see _page_keys_sql)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _slot(name: str) -> peewee.Value:
    # No field converter: an IntegerField's would try int() on the slot.
    return peewee.Value(_Slot(name), converter=False)


# The filter's instants, in the order _conditions writes them.
_BOUNDS = ("ended_or_complete_at", "upcoming_at", "starts_from", "starts_before", "starts_until")


def _conditions(selected: ExportFilter, *, slots: bool = False) -> list[peewee.Expression]:
    """The filter as conditions on Meeting; with `slots`, each instant is a parameter named
    after its field (_page_keys_sql) instead of its value."""

    def bound(name: str) -> Any:
        return _slot(name) if slots else _naive_utc(getattr(selected, name))

    conditions: list[peewee.Expression] = []
    if selected.ended_or_complete_at is not None:
        now = bound("ended_or_complete_at")
        conditions.append((Meeting.end_time <= now) | (Meeting.status == "complete"))
    if selected.upcoming_at is not None:
        now = bound("upcoming_at")
        conditions.append((Meeting.end_time > now) & Meeting.status.not_in(CLOSED_STATUSES))
    if selected.starts_from is not None:
        conditions.append(Meeting.start_time >= bound("starts_from"))
    if selected.starts_before is not None:
        conditions.append(Meeting.start_time < bound("starts_before"))
    if selected.starts_until is not None:
        conditions.append(Meeting.start_time <= bound("starts_until"))
    if selected.eap_only:
        conditions.append(Meeting.eap == True)  # noqa: E712 - builds SQL, not a Python test
    return conditions


def _column(name: str) -> Any:
    field = EXPORT_COLUMNS[name]
    if name == "start_time":
        if is_sqlite(database_proxy.obj):
            return peewee.fn.strftime(_SQLITE_ISO, field)
        return peewee.fn.to_char(field, _POSTGRES_ISO)
    if name == "price":
        return peewee.fn.COALESCE(field, 0)
    return field


def _json_value(name: str) -> Any:
    """A column as json_object (SQLite) should see it: flags as JSON true/false."""
    value = _column(name)
    if name in FLAG_COLUMNS:
        return peewee.fn.json(
            peewee.Case(None, ((value, peewee.SQL("'true'")),), peewee.SQL("'false'"))
        )
    return value


def _postgres_json_value(name: str) -> Any:
    value = _column(name)
    if name == "price":
        # numeric(12, 2) prints 10.00; the legacy JSON has 10 and 12.5.
        return peewee.fn.trim_scale(value)
    return value


def _json_select(
    selected: ExportFilter, columns: Sequence[str], ordered: Any = None
) -> tuple[str, Any]:
    """SQL whose rows are 1-tuples: each row's legacy JSON object, in export order.

    `ordered(expressions)` builds the ordered query from the selected expressions (by default
    every matching meeting, see _ordered).
    """
    keys = [JSON_KEYS.get(name, name) for name in columns]
    build = ordered or (lambda expressions: _ordered(selected, expressions))
    if is_sqlite(database_proxy.obj):
        arguments: list[Any] = []
        for key, name in zip(keys, columns, strict=True):
            arguments += [peewee.SQL(f"'{key}'"), _json_value(name)]
        document = peewee.Cast(peewee.fn.json_object(*arguments), "BLOB")
        query: peewee.SelectBase = build([document])
        sql, params = query.sql()
        return sql, params
    # row_to_json of a derived table keeps the aliases as keys, in order, and is compact.
    # The ordered query stays a subquery (one with ORDER BY is never flattened), so its
    # order is the order of the rows.
    inner = build(
        [_postgres_json_value(name).alias(key) for key, name in zip(keys, columns, strict=True)]
    )
    sql, params = inner.sql()
    names = ", ".join(f'c."{key}"' for key in keys)
    return f"SELECT row_to_json(r)::text FROM (SELECT {names} FROM ({sql}) AS c) AS r", params


def _ordered(
    selected: ExportFilter,
    columns: Sequence[Any],
    *,
    after: tuple[Any, Any] | None = None,
    descending: bool = False,
    slots: bool = False,
) -> peewee.SelectBase:
    """`columns` of the matching meetings by start time, then id, read in index order.

    One organization is one range of the (organization, start_time, id) index. For several
    (an EAP and its HPC) the query is a UNION ALL of one such range per organization, which
    both databases merge in order (PostgreSQL's Merge Append, SQLite's ordered compound), so
    rows stream from the first one instead of waiting for a sort of the whole result. The
    compound is ordered by two extra trailing columns; readers ignore them.

    `after` keeps only the meetings after that (start_time, id) key (a keyset page; see
    _from_key for the range's lower bound); `descending` reads the same order backwards,
    from the last meeting. With `slots`, every value is a named parameter (_page_keys_sql):
    organization `o<index>`, the filter's instants by field name.
    """
    conditions = _conditions(selected, slots=slots)
    if after is not None:
        start_text, meeting_id = after
        conditions.append(
            (Meeting.start_time > start_text)
            | ((Meeting.start_time == start_text) & (Meeting.id > meeting_id))
        )
    organizations = [
        _slot(f"o{index}") if slots else organization_id
        for index, organization_id in enumerate(selected.organization_ids)
    ]
    if len(organizations) == 1:
        (organization_id,) = organizations
        return (
            Meeting.select(*columns)
            .where(Meeting.organization == organization_id, *conditions)
            .order_by(
                *(
                    (Meeting.start_time.desc(), Meeting.id.desc())
                    if descending
                    else (Meeting.start_time, Meeting.id)
                )
            )
        )
    arms = [
        Meeting.select(
            *columns, Meeting.start_time.alias(_SORT_START), Meeting.id.alias(_SORT_ID)
        ).where(Meeting.organization == organization_id, *conditions)
        for organization_id in organizations
    ]
    compound: peewee.SelectBase = arms[0]
    for arm in arms[1:]:
        compound = compound.union_all(arm)
    order = (
        (peewee.SQL(f"{_SORT_START} DESC"), peewee.SQL(f"{_SORT_ID} DESC"))
        if descending
        else (peewee.SQL(_SORT_START), peewee.SQL(_SORT_ID))
    )
    return compound.order_by(*order)


def _flag_positions(columns: Sequence[str]) -> tuple[int, ...]:
    if not is_sqlite(database_proxy.obj):
        return ()  # psycopg2 returns booleans already
    return tuple(index for index, name in enumerate(columns) if name in FLAG_COLUMNS)


def _with_bools(rows: list[Any], positions: tuple[int, ...]) -> list[Any]:
    """SQLite has no boolean type: its 0/1 become False/True."""
    if not positions:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index in positions:
            values[index] = bool(values[index])
        converted.append(values)
    return converted


@contextmanager
def _read_transaction() -> Iterator[None]:
    """One consistent snapshot for several statements (a count and its page)."""
    with translate_database_errors(), ExitStack() as stack:
        stack.enter_context(sqlite_turn())
        if database_proxy.is_closed():
            stack.enter_context(database_proxy.connection_context())
        if is_sqlite(database_proxy.obj):
            stack.enter_context(database_proxy.atomic())
        else:
            stack.enter_context(database_proxy.atomic(isolation_level="REPEATABLE READ"))
        yield


def count_meetings(selected: ExportFilter) -> int:
    """How many meetings match (counted in the database, no rows read out)."""
    with _read_transaction():
        return _count(selected)


def _count(selected: ExportFilter) -> int:
    query = Meeting.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        Meeting.organization.in_(selected.organization_ids), *_conditions(selected)
    )
    return int(query.scalar() or 0)


# Per export filter: its count in a snapshot. Per (filter, page size, offset): the sort key
# of the last meeting before that offset, in a snapshot, so that the next page of a walk
# starts right there (a keyset read) instead of skipping `offset` index entries. Both are
# keyed by the filter without its moving instant (_Moving) and hold the instant they were
# read at: the default export (`all`) is evaluated at each request's `now`.
_COUNTS: LatestCache[ExportFilter, tuple[datetime | None, int]] = LatestCache(256)
_PAGE_STARTS: LatestCache[
    tuple[ExportFilter, int, int], tuple[datetime | None, tuple[Any, int]]
] = LatestCache(4096)
# A count or page start read at one instant is carried to another at most this far away;
# beyond it, counted or read again (so the range of meetings that moved stays short).
CARRY_WITHIN = timedelta(minutes=5)


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
            return _Moving(replace(selected, ended_or_complete_at=_EPOCH), past, True)
        if upcoming is not None and past is None:
            return _Moving(replace(selected, upcoming_at=_EPOCH), upcoming, False)
        return _Moving(selected, None, False)

    def carries(self, then: datetime | None) -> bool:
        """Whether a value read at instant `then` can be carried to this filter's."""
        if self.at is None or then is None:
            return self.at is None and then is None
        return abs(self.at - then) < CARRY_WITHIN

    def moved(self, then: datetime, before: tuple[Any, int] | None = None) -> tuple[int, int]:
        """Meetings that joined the set between `then` and this filter's instant, less those
        that left it (negative when it shrank): in all, and among those sorting at or before
        the (start_time, id) key `before` (0 without one). One statement."""
        assert self.at is not None
        if self.at == then:
            return 0, 0
        rest = replace(self.key, ended_or_complete_at=None, upcoming_at=None)
        sql, template = _moved_sql(
            is_sqlite(database_proxy.obj), _shape(rest), self.past, before is not None
        )
        low, high = sorted((_naive_utc(then), _naive_utc(self.at)))
        values = _bound_values(rest, low=low, high=high)
        if before is not None:
            values.update(key_start=before[0], key_id=before[1])
        params = [values[value.name] if isinstance(value, _Slot) else value for value in template]
        row = database_proxy.execute_sql(sql, params).fetchone()
        # Later than `then`: the past grew and the upcoming shrank; earlier: the other way.
        sign = 1 if self.past == (self.at > then) else -1
        return sign * int(row[0] or 0), sign * int(row[1] or 0)


@lru_cache(maxsize=64)
def _moved_sql(
    sqlite: bool, shape: tuple[int, tuple[bool, ...], bool], past: bool, with_key: bool
) -> tuple[str, tuple[Any, ...]]:
    """The statement of _Moving.moved for one shape of the rest of the filter: its SQL and its
    parameters with a _Slot for each value (see _page_keys_sql)."""
    del sqlite  # part of the cache key: the SQL is the connected database's
    organizations, bounds, eap_only = shape
    template = ExportFilter(
        organization_ids=(),
        eap_only=eap_only,
        **{name: _EPOCH for name, present in zip(_BOUNDS, bounds, strict=True) if present},
    )
    closed = ("complete",) if past else CLOSED_STATUSES
    conditions = [
        Meeting.organization.in_([_slot(f"o{index}") for index in range(organizations)]),
        *_conditions(template, slots=True),
        Meeting.end_time > _slot("low"),
        Meeting.end_time <= _slot("high"),
        Meeting.status.not_in(closed),
    ]
    before: Any = peewee.Value(0)
    if with_key:
        key_start = _slot("key_start")
        sorts_before = (Meeting.start_time < key_start) | (
            (Meeting.start_time == key_start) & (Meeting.id <= _slot("key_id"))
        )
        before = peewee.fn.SUM(peewee.Case(None, ((sorts_before, 1),), 0))
    query = Meeting.select(peewee.fn.COUNT(peewee.SQL("*")), before).where(*conditions)
    sql, params = query.sql()
    return sql, tuple(params)


def _bound_values(selected: ExportFilter, **extra: Any) -> dict[str, Any]:
    """The values of a statement written with slots: organizations `o<index>`, the filter's
    instants by field name (naive UTC), and `extra`."""
    values: dict[str, Any] = {
        f"o{index}": org for index, org in enumerate(selected.organization_ids)
    }
    values.update(
        (name, _naive_utc(getattr(selected, name)))
        for name in _BOUNDS
        if getattr(selected, name) is not None
    )
    values.update(extra)
    return values


def _snapshot_token() -> Hashable | None:
    """The token of the transaction just begun (see store.snapshots); its first statement."""
    db = database_proxy.obj
    if is_sqlite(db):
        before = sqlite_version(db)
        database_proxy.execute_sql("PRAGMA schema_version")  # fixes the snapshot
        return sqlite_token(before, sqlite_version(db))
    row = database_proxy.execute_sql(f"SELECT {POSTGRES_SNAPSHOT_SQL}").fetchone()
    return snapshot_value(row[0])


def _cached(cache: LatestCache[Any, Any], key: Any, token: Hashable | None) -> Any:
    found = cache.get(database_proxy.obj, key)
    return found[1] if found is not None and token is not None and found[0] == token else None


def _carried(
    selected: ExportFilter, token: Hashable | None, limit: int, offset: int
) -> tuple[int, tuple[Any, int] | None]:
    """The filter's count in this snapshot, and the sort key of the meeting just before
    `offset` if this snapshot read it: cached for this instant, carried from another one
    (_Moving: one statement for both), or (the count) counted. The count is then cached for
    this instant, so the next page carries it over a short range again."""
    moving = _Moving.of(selected)
    counted = _cached(_COUNTS, moving.key, token)
    if counted is not None and not moving.carries(counted[0]):
        counted = None
    started = _cached(_PAGE_STARTS, (moving.key, limit, offset), token) if offset else None
    if started is not None and not moving.carries(started[0]):
        started = None
    if moving.at is None:  # a filter that does not move: cached as it is
        total = counted[1] if counted is not None else None
        start = started[1] if started is not None else None
    else:
        total, start = None, None
        if counted is not None and started is not None and counted[0] == started[0]:
            joined, before = moving.moved(counted[0], before=started[1])
            total, start = counted[1] + joined, started[1] if before == 0 else None
        else:
            if counted is not None:
                total = counted[1] + moving.moved(counted[0])[0]
            if started is not None and moving.moved(started[0], before=started[1])[1] == 0:
                start = started[1]
    if total is None:
        total = _count(selected)
    if counted is None or counted[0] != moving.at:
        _COUNTS.put(database_proxy.obj, moving.key, token, (moving.at, total))
    return int(total), (tuple(start) if start is not None else None)


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
    whichever end of the export is nearer (so the last page costs what the first does)."""
    rows = min(limit, total - offset)
    values: dict[str, Any] = {"limit": rows}
    read = selected
    if start is not None:
        mode = "after"
        read = _from_key(selected, start)
        values.update(after_start=start[0], after_id=start[1])
    elif offset > total - offset - rows:
        mode = "backwards"
        values["offset"] = total - offset - rows
    else:
        mode = "forwards"
        values["offset"] = offset
    sql, template = _page_keys_sql(is_sqlite(database_proxy.obj), _shape(read), mode)
    values.update(_bound_values(read))
    params = [values[value.name] if isinstance(value, _Slot) else value for value in template]
    cursor = database_proxy.execute_sql(sql, params)
    found = [(row[0], int(row[1])) for row in cursor.fetchall()]
    if mode == "backwards":
        found.reverse()
    if found:
        moving = _Moving.of(selected)
        _PAGE_STARTS.put(
            database_proxy.obj,
            (moving.key, limit, offset + len(found)),
            token,
            (moving.at, found[-1]),
        )
    return found


def _from_key(selected: ExportFilter, start: tuple[Any, int]) -> ExportFilter:
    """The filter of a keyset page read after `start`: the key's start time becomes the
    range's lower bound (a second lower bound beside the filter's own would leave SQLite
    scanning from the first)."""
    moment = _aware(start[0])
    if selected.starts_from is None or selected.starts_from < moment:
        return replace(selected, starts_from=moment)
    return selected


def _shape(selected: ExportFilter) -> tuple[int, tuple[bool, ...], bool]:
    """What a filter's statements are written from: everything but its values."""
    bounds = tuple(getattr(selected, name) is not None for name in _BOUNDS)
    return len(selected.organization_ids), bounds, selected.eap_only


@lru_cache(maxsize=256)
def _page_keys_sql(
    sqlite: bool, shape: tuple[int, tuple[bool, ...], bool], mode: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement of _page_keys for one shape of filter and one way of reading (forwards
    or backwards from an offset, or after a key): its SQL, and its parameters with a _Slot
    for each value. Written once per shape: rendering it per page cost more than the read
    (profiled: ~40% of a page's time in the store)."""
    del sqlite  # part of the cache key: the SQL is the connected database's
    organizations, bounds, eap_only = shape
    template = ExportFilter(
        organization_ids=tuple(range(organizations)),
        eap_only=eap_only,
        # Present or not as in the shape; the values are never used (slots=True).
        **{name: _EPOCH for name, present in zip(_BOUNDS, bounds, strict=True) if present},
    )
    keys = [Meeting.start_time, Meeting.id]
    if mode == "after":
        after = (_slot("after_start"), _slot("after_id"))
        query = _ordered(template, keys, after=after, slots=True).limit(_slot("limit"))
    else:
        query = _ordered(template, keys, descending=mode == "backwards", slots=True)
        query = query.limit(_slot("limit")).offset(_slot("offset"))
    sql, params = query.sql()
    return sql, tuple(params)


def export_page(
    selected: ExportFilter,
    columns: Sequence[str],
    *,
    offset: int,
    limit: int,
    json_rows: bool = False,
) -> tuple[int, list[Row]]:
    """The total count and one page of rows, from one snapshot.

    The page's ids are chosen first on the narrow index order, and only those rows are read
    in full. Within one snapshot of the data (store.snapshots) the count is counted once, and
    a page that follows one already served starts from that page's last key; otherwise a page
    in the second half is read backwards from the end. A page past the end reads no rows.
    """
    with _read_transaction():
        token = _snapshot_token()
        total, start = _carried(selected, token, limit, offset)
        if offset >= total or limit <= 0 or not columns:
            return total, []
        ids = [
            meeting_id for _, meeting_id in _page_keys(selected, token, total, offset, limit, start)
        ]
        if not ids:
            return total, []

        sqlite = is_sqlite(database_proxy.obj)
        sql, template, slot = _rows_by_ids(sqlite, tuple(columns), json_rows)
        params = list(template)
        params[slot] = orjson.dumps(ids).decode() if sqlite else ids
        cursor = database_proxy.execute_sql(sql, params)
        if json_rows:
            return total, _as_bytes(cursor.fetchall())
        return total, _with_bools(cursor.fetchall(), _flag_positions(columns))


class _IdsMarker:
    """Stands for the page's ids while a statement is written, to find their parameter."""


@lru_cache(maxsize=256)
def _rows_by_ids(
    sqlite: bool, columns: tuple[str, ...], json_rows: bool
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
        sql, params = _json_select(unused, columns, page_rows)
    else:
        sql, params = page_rows([_column(name) for name in columns]).sql()
    slots = [index for index, value in enumerate(params) if value is marker]
    assert len(slots) == 1, "the page's ids must be exactly one parameter"
    return sql, tuple(params), slots[0]


class ExportReader(Protocol):
    """An open read of every matching row, in order; close() ends it at any point."""

    def fetch(self) -> list[Row]:
        """The next rows (at most the batch size); an empty list once all were read."""

    def close(self) -> None:
        """Stop reading and release the cursor (and its transaction); safe to call twice."""


def _as_bytes(rows: list[Any]) -> list[Row]:
    """JSON rows as bytes (psycopg2 returns text as str)."""
    if rows and isinstance(rows[0][0], str):
        return [(row[0].encode(),) for row in rows]
    return rows


def open_export(
    selected: ExportFilter, columns: Sequence[str], batch_rows: int, *, json_rows: bool = False
) -> ExportReader:
    """Start reading the matching rows in order, `batch_rows` at a time, on this thread's
    connection. Only one batch is ever held in memory, whatever the size of the export.

    With `json_rows`, each row is a 1-tuple holding the row's legacy JSON object (bytes).
    """
    if json_rows:
        sql, params = _json_select(selected, columns)
        positions: tuple[int, ...] = ()
    else:
        sql, params = _ordered(selected, [_column(name) for name in columns]).sql()
        positions = _flag_positions(columns)
    with translate_database_errors():
        if is_sqlite(database_proxy.obj):
            return _SqliteReader(database_proxy.connection(), sql, params, batch_rows, positions)
        return _PostgresReader(
            database_proxy.connection(), sql, params, batch_rows, raw_text=json_rows
        )


# Pages an export's connection keeps cached while it reads (KiB, as a negative cache_size).
# A read in index order never comes back to a page, so the connection's usual cache would
# only fill up with the pages of a large export: that alone was most of the service's peak
# memory in a million-row export.
_EXPORT_CACHE_KIB = 2048


class _SqliteReader:
    """A SQLite statement stepped batch by batch; it reads one snapshot until it is closed."""

    def __init__(
        self, connection: Any, sql: str, params: Any, batch_rows: int, flags: tuple[int, ...]
    ) -> None:
        self._batch_rows = batch_rows
        self._flags = flags
        self._connection = connection
        with sqlite_turn(), _DRIVER_ERRORS:
            (self._cache_size,) = connection.execute("PRAGMA cache_size").fetchone()
            connection.execute(f"PRAGMA cache_size = -{_EXPORT_CACHE_KIB}")
            self._cursor = connection.execute(sql, params)

    def fetch(self) -> list[Row]:
        # The turn is taken batch by batch, never for the whole export: the RPCs that come
        # in meanwhile take theirs between two batches.
        with translate_database_errors(), sqlite_turn(), _DRIVER_ERRORS:
            rows = self._cursor.fetchmany(self._batch_rows)
        return _with_bools(rows, self._flags)

    def close(self) -> None:
        with sqlite_turn():
            self._cursor.close()
            with suppress(sqlite3.Error):
                self._connection.execute(f"PRAGMA cache_size = {int(self._cache_size)}")


class _PostgresReader:
    """A server-side cursor (DECLARE ... FETCH) in a read-only transaction of its own.

    The raw connection is kept so that closing works even when the generator driving the
    reader is finalized away from the thread that opened it.
    """

    def __init__(
        self, connection: Any, sql: str, params: Any, batch_rows: int, *, raw_text: bool = False
    ) -> None:
        self._connection = connection
        self._batch_rows = batch_rows
        # Text columns as undecoded bytes: JSON rows go out as they came in.
        self._raw_text = raw_text
        self._open = False
        try:
            with _DRIVER_ERRORS, connection.cursor() as cursor:
                # DECLARE needs a transaction block, and peewee runs psycopg2 in autocommit
                # mode, so it is begun by hand. (A WITH HOLD cursor would work without one,
                # but PostgreSQL materializes its whole result before the first FETCH.)
                cursor.execute("BEGIN READ ONLY")
                self._open = True
                cursor.execute(f"DECLARE {_POSTGRES_CURSOR} NO SCROLL CURSOR FOR {sql}", params)
        except BaseException:
            self.close()
            raise

    def fetch(self) -> list[Row]:
        if not self._open:
            return []
        with (
            translate_database_errors(),
            _DRIVER_ERRORS,
            self._connection.cursor() as cursor,
        ):
            if self._raw_text:
                psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor)
            cursor.execute(f"FETCH FORWARD {int(self._batch_rows)} FROM {_POSTGRES_CURSOR}")
            rows: list[Row] = cursor.fetchall()
        return rows

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._connection.closed:
            return
        # ROLLBACK ends the transaction and drops the cursor; nothing was written. On a
        # connection that just broke it fails too, and the error that broke it is the news.
        with suppress(psycopg2.Error), self._connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
