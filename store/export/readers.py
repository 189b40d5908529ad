"""Reads of every matching row, in export order, batch by batch: a SQLite statement stepped
a batch at a time, or a PostgreSQL server-side cursor. Only one batch is ever held in memory,
whatever the size of the export.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import suppress
from typing import Any, Protocol

import peewee
import psycopg2

from store.database import database_proxy, is_sqlite
from store.errors import translate_database_errors
from store.export.filters import (
    Column,
    ExportFilter,
    Row,
    column_expression,
    flag_positions,
    in_export_order,
    json_select,
    with_bools,
)
from store.session import ReadOnlyTransaction, sqlite_turn

_POSTGRES_CURSOR = "meetings_export"
# peewee's translation of DB-API errors into its own classes, which translate_database_errors
# reads; needed around the raw cursors used here.
_DRIVER_ERRORS: peewee.ExceptionWrapper = vars(peewee)["__exception_wrapper__"]


class ExportReader(Protocol):
    """An open read of every matching row, in order; close() ends it at any point."""

    def fetch(self) -> list[Row]:
        """The next rows (at most the batch size); an empty list once all were read."""

    def close(self) -> None:
        """Stop reading and release the cursor (and its transaction); safe to call twice."""


def open_export(
    selected: ExportFilter, columns: Sequence[Column], batch_rows: int, *, json_rows: bool = False
) -> ExportReader:
    """Start reading the matching rows in order, `batch_rows` at a time, on this thread's
    connection. Only one batch is ever held in memory, whatever the size of the export.

    With `json_rows`, each row is a 1-tuple holding the row's legacy JSON object (bytes).
    """
    if json_rows:
        sql, params = json_select(selected, columns)
        positions: tuple[int, ...] = ()
    else:
        sql, params = in_export_order(
            selected, [column_expression(column.name) for column in columns]
        ).sql()
        positions = flag_positions(columns)
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
        return with_bools(rows, self._flags)

    def close(self) -> None:
        with sqlite_turn():
            self._cursor.close()
            with suppress(sqlite3.Error):
                self._connection.execute(f"PRAGMA cache_size = {int(self._cache_size)}")


class _PostgresReader:
    """A server-side cursor (DECLARE ... FETCH) in a read-only transaction of its own
    (store.session.ReadOnlyTransaction: DECLARE needs a transaction block).

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
        self._transaction = ReadOnlyTransaction(connection)
        try:
            with _DRIVER_ERRORS:
                self._transaction.begin()
                with connection.cursor() as cursor:
                    declare = f"DECLARE {_POSTGRES_CURSOR} NO SCROLL CURSOR FOR {sql}"
                    cursor.execute(declare, params)
        except BaseException:
            self.close()
            raise

    def fetch(self) -> list[Row]:
        if not self._transaction.open:
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
        # Ending the transaction drops the cursor.
        self._transaction.end()
