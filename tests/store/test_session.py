from __future__ import annotations

import peewee
import pytest

from store.session import transaction


def test_a_snapshot_transaction_reads_one_snapshot_on_postgresql(db: peewee.Database) -> None:
    if not isinstance(db, peewee.PostgresqlDatabase):
        pytest.skip("SQLite transactions always read one snapshot")
    with transaction(snapshot=True):
        level = db.execute_sql("SHOW transaction_isolation").fetchone()[0]
    assert level == "repeatable read"
    with transaction():
        default = db.execute_sql("SHOW transaction_isolation").fetchone()[0]
    assert default == "read committed"
