"""The store's caches of values read in one snapshot of the data (counts, page starts; see
store.snapshots and store.carried), behind one switch and one reset.

Every such cache is a LatestCache: a value is only ever used by a read of the very snapshot
it was read in (or carried exactly to it), so turning the caches off changes no answer, only
how much each request reads. Off (`MEETINGS_STORE_CACHES=off`, or set_caches_enabled), every
total is counted afresh and every page placed from the stored day counts: a way to rule the
caches out when an answer looks wrong.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import peewee

from store.snapshots import database_serial

_LOGGER = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Read on every get and put; a plain bool, so reading it takes no lock.
_enabled = True
_every_cache: weakref.WeakSet[LatestCache[object, object]] = weakref.WeakSet()


def set_caches_enabled(enabled: bool) -> None:
    """Turn every cache of the store on or off for this process; either way they start empty."""
    global _enabled
    if enabled != _enabled:
        _LOGGER.info("store caches %s", "on" if enabled else "off")
    _enabled = enabled
    reset_caches()


def reset_caches() -> None:
    """Forget every value kept by every cache of the store (tests, and after a restore)."""
    for cache in list(_every_cache):
        cache.clear()


class LatestCache(Generic[K, V]):
    """A bounded, thread-safe map from (database, key) to the last value computed for that
    key and the snapshot token it was computed in; the least recently used keys go first.

    Readers compare the token with their own snapshot's before using the value (a value of
    another snapshot is only a hint: see store.carried for one that is carried forward).
    While the caches are off (set_caches_enabled), nothing is kept and nothing found.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, K], tuple[Hashable, V]] = OrderedDict()
        _every_cache.add(self)  # type: ignore[arg-type]

    def get(self, db: peewee.Database, key: K) -> tuple[Hashable, V] | None:
        if not _enabled:
            return None
        entry = (database_serial(db), key)
        with self._lock:
            found = self._entries.get(entry)
            if found is not None:
                self._entries.move_to_end(entry)
            return found

    def put(self, db: peewee.Database, key: K, token: Hashable | None, value: V) -> None:
        """Keep `value` for `key` as computed in snapshot `token` (nothing when None)."""
        if token is None or not _enabled:
            return
        entry = (database_serial(db), key)
        with self._lock:
            self._entries[entry] = (token, value)
            self._entries.move_to_end(entry)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
