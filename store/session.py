"""The connection and transaction scope every store function runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from store.database import database_proxy
from store.errors import translate_database_errors


@contextmanager
def transaction() -> Iterator[None]:
    """One transaction on this thread's connection, opening (and later closing) one if needed.

    A connection the caller already holds is reused and left open; nested calls become
    savepoints. Database outages surface as DatabaseUnavailable.
    """
    with translate_database_errors(), ExitStack() as stack:
        if database_proxy.is_closed():
            stack.enter_context(database_proxy.connection_context())
        stack.enter_context(database_proxy.atomic())
        yield
