"""The export's filter and its SQL: which meetings (ExportFilter, as conditions on Meeting),
the columns as the legacy page prints them, each row's JSON object built in SQL, and the
order every read follows (start time, then id, along the index).

Rows hold the requested columns in the requested order, as the database returns them, except
that `start_time` is already ISO 8601 text (`2026-05-23T15:00:00.000Z`, formatted in SQL),
`price` is never null (0 when unset; an int, float or Decimal), and flags are bools on both
databases. No model object is built per row: this is the hot path of large exports.

Asked for JSON rows (`json_rows=True`), the database writes each row's legacy JSON object
itself (SQLite `json_object`, PostgreSQL `row_to_json`), compact and with the keys in the
requested order, and every row is a 1-tuple of those UTF-8 bytes: Python then only joins a
batch. Profiled on a million rows, building dicts and encoding them took as long as reading
the rows; the database does it for a fraction of that.

The statements of store.export.pages are written once per shape of filter with a Slot for
each value (shape_of, template_of, bound_values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee

from store.database import database_proxy, is_sqlite
from store.models import Meeting

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
# Statuses that take a meeting off the upcoming list.
CLOSED_STATUSES = ("cancel", "complete")

# ISO 8601 UTC with milliseconds, as the legacy page prints start times.
_SQLITE_ISO = "%Y-%m-%dT%H:%M:%fZ"
_POSTGRES_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
_SORT_START, _SORT_ID = "export_sort_start", "export_sort_id"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Column:
    """A requested column: its name (a key of EXPORT_COLUMNS) and its key in a JSON row,
    which the caller gives (the store holds the schema, not the legacy API's names)."""

    name: str
    json_key: str


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


def naive_utc(instant: datetime) -> datetime:
    # The database stores naive UTC; an aware value would be compared as text on SQLite.
    if instant.tzinfo is None:
        raise ValueError("export bounds must be aware datetimes")
    return instant.astimezone(UTC).replace(tzinfo=None)


def aware(stored: Any) -> datetime:
    """A start time as read back from the database (naive UTC; text on SQLite), aware."""
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Slot:
    """Stands for one named parameter while a statement is written once (store.export.pages
    writes each of its statements once per shape of filter)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def slot(name: str) -> peewee.Value:
    # No field converter: an IntegerField's would try int() on the slot.
    return peewee.Value(Slot(name), converter=False)


# The filter's instants, in the order filter_conditions writes them.
BOUNDS = ("ended_or_complete_at", "upcoming_at", "starts_from", "starts_before", "starts_until")


def filter_conditions(
    selected: ExportFilter, *, slots: bool = False, names: dict[str, str] | None = None
) -> list[peewee.Expression]:
    """The filter as conditions on Meeting; with `slots`, each instant is a parameter named
    after its field (store.export.pages), or as `names` renames it, instead of its value."""

    def bound(name: str) -> Any:
        if slots:
            return slot((names or {}).get(name, name))
        return naive_utc(getattr(selected, name))

    conditions: list[peewee.Expression] = []
    if selected.ended_or_complete_at is not None:
        now = bound("ended_or_complete_at")
        conditions.append((Meeting.end_time <= now) | (Meeting.status == "complete"))
    lowest = bound("starts_from") if selected.starts_from is not None else None
    if selected.upcoming_at is not None:
        now = bound("upcoming_at")
        conditions.append((Meeting.end_time > now) & Meeting.status.not_in(CLOSED_STATUSES))
        organizations = [
            slot(f"o{index}") if slots else organization_id
            for index, organization_id in enumerate(selected.organization_ids)
        ]
        # One lower bound, the later of the two: beside a second one, SQLite ranges the
        # index over the first it finds and filters on the other.
        earliest = _earliest_start(now, organizations)
        lowest = earliest if lowest is None else _later(lowest, earliest)
    if lowest is not None:
        conditions.append(Meeting.start_time >= lowest)
    if selected.starts_before is not None:
        conditions.append(Meeting.start_time < bound("starts_before"))
    if selected.starts_until is not None:
        conditions.append(Meeting.start_time <= bound("starts_until"))
    if selected.eap_only:
        conditions.append(Meeting.eap == True)  # noqa: E712 - builds SQL, not a Python test
    return conditions


def _later(first: Any, second: Any) -> Any:
    if is_sqlite(database_proxy.obj):
        return peewee.fn.max(first, second)  # of ISO texts: the later instant
    return peewee.fn.GREATEST(first, second)


def _earliest_start(now: Any, organizations: Sequence[Any]) -> Any:
    """`now` less the longest meeting of `organizations`: a meeting that started before it
    has ended by `now` (its end_time is its start plus its duration, as stored). As a
    lower bound on the start, it makes the upcoming meetings a range of the (organization,
    start_time, id) index instead of a filter over the whole history. Each longest duration
    is one seek on the (organization, duration) index, inside the statement, so it is the
    statement's own snapshot's."""
    other = Meeting.alias("longest")
    longest: list[Any] = [
        peewee.fn.COALESCE(
            other.select(peewee.fn.MAX(other.duration)).where(other.organization == organization),
            0,
        )
        for organization in organizations
    ] or [peewee.Value(0)]
    if is_sqlite(database_proxy.obj):
        minutes = longest[0] if len(longest) == 1 else peewee.fn.max(*longest)
        # datetime() drops the fraction of a second of `now`: the bound only widens.
        return peewee.fn.datetime(now, peewee.fn.printf("-%d minutes", minutes))
    minutes = longest[0] if len(longest) == 1 else peewee.fn.GREATEST(*longest)
    return peewee.Expression(
        now, "-", peewee.Expression(minutes, "*", peewee.SQL("interval '1 minute'"))
    )


def column_expression(name: str) -> Any:
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
    value = column_expression(name)
    if name in FLAG_COLUMNS:
        return peewee.fn.json(
            peewee.Case(None, ((value, peewee.SQL("'true'")),), peewee.SQL("'false'"))
        )
    return value


def _postgres_json_value(name: str) -> Any:
    value = column_expression(name)
    if name == "price":
        # numeric(12, 2) prints 10.00; the legacy JSON has 10 and 12.5.
        return peewee.fn.trim_scale(value)
    return value


def json_select(
    selected: ExportFilter, columns: Sequence[Column], ordered: Any = None
) -> tuple[str, Any]:
    """SQL whose rows are 1-tuples: each row's JSON object, keyed by each column's json_key,
    in export order.

    `ordered(expressions)` builds the ordered query from the selected expressions (by default
    every matching meeting, see in_export_order).
    """
    build = ordered or (lambda expressions: in_export_order(selected, expressions))
    if is_sqlite(database_proxy.obj):
        arguments: list[Any] = []
        for column in columns:
            arguments += [peewee.SQL(f"'{column.json_key}'"), _json_value(column.name)]
        document = peewee.Cast(peewee.fn.json_object(*arguments), "BLOB")
        query: peewee.SelectBase = build([document])
        sql, params = query.sql()
        return sql, params
    # row_to_json of a derived table keeps the aliases as keys, in order, and is compact.
    # The ordered query stays a subquery (one with ORDER BY is never flattened), so its
    # order is the order of the rows.
    inner = build([_postgres_json_value(column.name).alias(column.json_key) for column in columns])
    sql, params = inner.sql()
    names = ", ".join(f'c."{column.json_key}"' for column in columns)
    return f"SELECT row_to_json(r)::text FROM (SELECT {names} FROM ({sql}) AS c) AS r", params


def in_export_order(
    selected: ExportFilter,
    columns: Sequence[Any],
    *,
    after: tuple[Any, Any] | None = None,
    slots: bool = False,
) -> peewee.SelectBase:
    """`columns` of the matching meetings by start time, then id, read in index order.

    One organization is one range of the (organization, start_time, id) index. For several
    (an EAP and its HPC) the query is a UNION ALL of one such range per organization, which
    both databases merge in order (PostgreSQL's Merge Append, SQLite's ordered compound), so
    rows stream from the first one instead of waiting for a sort of the whole result. The
    compound is ordered by two extra trailing columns; readers ignore them.

    `after` keeps only the meetings after that (start_time, id) key (a keyset page; its
    filter's lower bound is that key's start, see store.export.pages). With `slots`, every
    value is a named parameter (store.export.pages): organization `o<index>`, the filter's
    instants by name.
    """
    conditions = filter_conditions(selected, slots=slots)
    if after is not None:
        start_text, meeting_id = after
        conditions.append(
            (Meeting.start_time > start_text)
            | ((Meeting.start_time == start_text) & (Meeting.id > meeting_id))
        )
    organizations = [
        slot(f"o{index}") if slots else organization_id
        for index, organization_id in enumerate(selected.organization_ids)
    ]
    if len(organizations) == 1:
        (organization_id,) = organizations
        return (
            Meeting.select(*columns)
            .where(Meeting.organization == organization_id, *conditions)
            .order_by(Meeting.start_time, Meeting.id)
        )
    return _merged(organizations, columns, conditions)


def _merged(
    organizations: Sequence[Any],
    columns: Sequence[Any],
    conditions: Sequence[peewee.Expression],
) -> peewee.SelectBase:
    """Several organizations' ranges as one ordered UNION ALL (see in_export_order)."""
    arms = [
        Meeting.select(
            *columns, Meeting.start_time.alias(_SORT_START), Meeting.id.alias(_SORT_ID)
        ).where(Meeting.organization == organization_id, *conditions)
        for organization_id in organizations
    ]
    compound: peewee.SelectBase = arms[0]
    for arm in arms[1:]:
        compound = compound.union_all(arm)
    return compound.order_by(peewee.SQL(_SORT_START), peewee.SQL(_SORT_ID))


def flag_positions(columns: Sequence[Column]) -> tuple[int, ...]:
    if not is_sqlite(database_proxy.obj):
        return ()  # psycopg2 returns booleans already
    return tuple(index for index, column in enumerate(columns) if column.name in FLAG_COLUMNS)


def with_bools(rows: list[Any], positions: tuple[int, ...]) -> list[Any]:
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


def shape_of(selected: ExportFilter) -> tuple[int, tuple[bool, ...], bool]:
    """What a filter's statements are written from: everything but its values."""
    bounds = tuple(getattr(selected, name) is not None for name in BOUNDS)
    return len(selected.organization_ids), bounds, selected.eap_only


def bound_values(selected: ExportFilter, **extra: Any) -> dict[str, Any]:
    """The values of a statement written with slots: organizations `o<index>`, the filter's
    instants by field name (naive UTC), and `extra`."""
    values: dict[str, Any] = {
        f"o{index}": org for index, org in enumerate(selected.organization_ids)
    }
    values.update(
        (name, naive_utc(getattr(selected, name)))
        for name in BOUNDS
        if getattr(selected, name) is not None
    )
    values.update(extra)
    return values


def as_bytes(rows: list[Any]) -> list[Row]:
    """JSON rows as bytes (psycopg2 returns text as str)."""
    if rows and isinstance(rows[0][0], str):
        return [(row[0].encode(),) for row in rows]
    return rows


def template_of(shape: tuple[int, tuple[bool, ...], bool]) -> ExportFilter:
    """A filter of that shape whose values are never used (statements written with slots)."""
    organizations, bounds, eap_only = shape
    return ExportFilter(
        organization_ids=tuple(range(organizations)),
        eap_only=eap_only,
        **{name: EPOCH for name, present in zip(BOUNDS, bounds, strict=True) if present},
    )
