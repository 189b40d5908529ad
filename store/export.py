"""The SQL of the meetings export: filters, start-time order, counts, pages, and a cursor read
in batches of plain tuples.

Rows hold the requested columns in the requested order, as the database returns them, except
that `start_time` is already ISO 8601 text (`2026-05-23T15:00:00.000Z`, formatted in SQL),
`price` is never null (0 when unset; an int, float or Decimal), and flags are bools on both
databases. No model object is built per row: this is the hot path of large exports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import peewee
import psycopg2

from store.database import database_proxy, is_sqlite
from store.errors import translate_database_errors
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
_POSTGRES_CURSOR = "meetings_export"
# peewee's translation of DB-API errors into its own classes, which translate_database_errors
# reads; needed around the raw cursors used here.
_DRIVER_ERRORS: peewee.ExceptionWrapper = vars(peewee)["__exception_wrapper__"]


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


def _conditions(selected: ExportFilter) -> list[peewee.Expression]:
    conditions: list[peewee.Expression] = []
    if selected.ended_or_complete_at is not None:
        now = _naive_utc(selected.ended_or_complete_at)
        conditions.append((Meeting.end_time <= now) | (Meeting.status == "complete"))
    if selected.upcoming_at is not None:
        now = _naive_utc(selected.upcoming_at)
        conditions.append((Meeting.end_time > now) & Meeting.status.not_in(CLOSED_STATUSES))
    if selected.starts_from is not None:
        conditions.append(Meeting.start_time >= _naive_utc(selected.starts_from))
    if selected.starts_before is not None:
        conditions.append(Meeting.start_time < _naive_utc(selected.starts_before))
    if selected.starts_until is not None:
        conditions.append(Meeting.start_time <= _naive_utc(selected.starts_until))
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


def _ordered(selected: ExportFilter, columns: Sequence[Any]) -> peewee.SelectBase:
    """`columns` of the matching meetings by start time, then id, read in index order.

    One organization is one range of the (organization, start_time, id) index. For several
    (an EAP and its HPC) the query is a UNION ALL of one such range per organization, which
    both databases merge in order (PostgreSQL's Merge Append, SQLite's ordered compound), so
    rows stream from the first one instead of waiting for a sort of the whole result. The
    compound is ordered by two extra trailing columns; readers ignore them.
    """
    conditions = _conditions(selected)
    if len(selected.organization_ids) == 1:
        (organization_id,) = selected.organization_ids
        return (
            Meeting.select(*columns)
            .where(Meeting.organization == organization_id, *conditions)
            .order_by(Meeting.start_time, Meeting.id)
        )
    arms = [
        Meeting.select(
            *columns, Meeting.start_time.alias(_SORT_START), Meeting.id.alias(_SORT_ID)
        ).where(Meeting.organization == organization_id, *conditions)
        for organization_id in selected.organization_ids
    ]
    compound: peewee.SelectBase = arms[0]
    for arm in arms[1:]:
        compound = compound.union_all(arm)
    return compound.order_by(peewee.SQL(_SORT_START), peewee.SQL(_SORT_ID))


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


def export_page(
    selected: ExportFilter, columns: Sequence[str], *, offset: int, limit: int
) -> tuple[int, list[Row]]:
    """The total count and one page of rows, from one snapshot.

    The page's ids are chosen first on the narrow index order (a deep OFFSET then skips index
    entries, not whole rows), and only those rows are read in full. A page past the end
    reads no rows at all.
    """
    with _read_transaction():
        total = _count(selected)
        if offset >= total or limit <= 0 or not columns:
            return total, []
        page_ids = _ordered(selected, [Meeting.id, Meeting.start_time]).limit(limit).offset(offset)
        ids = peewee.Select([page_ids.alias("page")], [peewee.SQL("id")])
        query = (
            Meeting.select(*(_column(name) for name in columns))
            .where(Meeting.id.in_(ids))
            .order_by(Meeting.start_time, Meeting.id)
        )
        cursor = database_proxy.execute(query)
        return total, _with_bools(cursor.fetchall(), _flag_positions(columns))


class ExportReader(Protocol):
    """An open read of every matching row, in order; close() ends it at any point."""

    def fetch(self) -> list[Row]:
        """The next rows (at most the batch size); an empty list once all were read."""

    def close(self) -> None:
        """Stop reading and release the cursor (and its transaction); safe to call twice."""


def open_export(selected: ExportFilter, columns: Sequence[str], batch_rows: int) -> ExportReader:
    """Start reading the matching rows in order, `batch_rows` at a time, on this thread's
    connection. Only one batch is ever held in memory, whatever the size of the export."""
    query = _ordered(selected, [_column(name) for name in columns])
    sql, params = query.sql()
    positions = _flag_positions(columns)
    with translate_database_errors():
        if is_sqlite(database_proxy.obj):
            return _SqliteReader(database_proxy.connection(), sql, params, batch_rows, positions)
        return _PostgresReader(database_proxy.connection(), sql, params, batch_rows)


class _SqliteReader:
    """A SQLite statement stepped batch by batch; it reads one snapshot until it is closed."""

    def __init__(
        self, connection: Any, sql: str, params: Any, batch_rows: int, flags: tuple[int, ...]
    ) -> None:
        self._batch_rows = batch_rows
        self._flags = flags
        with _DRIVER_ERRORS:
            self._cursor = connection.execute(sql, params)

    def fetch(self) -> list[Row]:
        with translate_database_errors(), _DRIVER_ERRORS:
            rows = self._cursor.fetchmany(self._batch_rows)
        return _with_bools(rows, self._flags)

    def close(self) -> None:
        self._cursor.close()


class _PostgresReader:
    """A server-side cursor (DECLARE ... FETCH) in a read-only transaction of its own.

    The raw connection is kept so that closing works even when the generator driving the
    reader is finalized away from the thread that opened it.
    """

    def __init__(self, connection: Any, sql: str, params: Any, batch_rows: int) -> None:
        self._connection = connection
        self._batch_rows = batch_rows
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
