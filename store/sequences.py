"""Keeping PostgreSQL id sequences ahead of ids that were inserted explicitly."""

from __future__ import annotations

from collections.abc import Iterable

import peewee

from store.database import database_proxy

# Never moves a sequence backwards: another transaction may already hold values past max(id).
_RESET_SQL = """
SELECT setval(s.seq, GREATEST(m.max_id, COALESCE(pg_sequence_last_value(s.seq), 0)))
FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) AS s,
     (SELECT MAX({column}) AS max_id FROM {table}) AS m
WHERE s.seq IS NOT NULL AND m.max_id IS NOT NULL
"""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def reset_id_sequences(models: Iterable[type[peewee.Model]]) -> None:
    """On PostgreSQL, make each model's next generated id larger than every stored one.

    SQLite needs nothing: it picks max(id) + 1 by itself.
    """
    if not isinstance(database_proxy.obj, peewee.PostgresqlDatabase):
        return
    for model in models:
        table = _quote(model._meta.table_name)
        primary_key = model._meta.primary_key
        assert isinstance(primary_key, peewee.Field), f"{model.__name__} has a composite key"
        column = primary_key.column_name
        sql = _RESET_SQL.format(column=_quote(column), table=table)
        database_proxy.execute_sql(sql, (table, column))
