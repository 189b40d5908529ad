"""The connection and transaction scope every store function runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import peewee

from store.database import database_proxy
from store.errors import translate_database_errors


@contextmanager
def transaction(*, snapshot: bool = False) -> Iterator[None]:
    """One transaction on this thread's connection, opening (and later closing) one if needed.

    A connection the caller already holds is reused and left open; nested calls become
    savepoints. Database outages surface as DatabaseUnavailable. With `snapshot`, every
    statement sees the same snapshot (SQLite transactions always do; PostgreSQL needs
    REPEATABLE READ), so a total and the page it counts agree.
    """
    with translate_database_errors(), ExitStack() as stack:
        if database_proxy.is_closed():
            stack.enter_context(database_proxy.connection_context())
        postgres = isinstance(database_proxy.obj, peewee.PostgresqlDatabase)
        if snapshot and postgres and not database_proxy.in_transaction():
            stack.enter_context(database_proxy.atomic(isolation_level="REPEATABLE READ"))
        else:
            stack.enter_context(database_proxy.atomic())
        yield
