"""Values read at one instant of a set of meetings that moves with time, kept to be carried
to a nearby instant of the same snapshot instead of read again: the one mechanism behind the
feed's total (store.upcoming) and the export's counts and page starts (store.export.pages).

Both endpoints read sets that move with `now`: the feed's upcoming meetings, the export's
`all` (ended by now) and `all_upcoming`. Between two instants `a < b` of one snapshot, the
only meetings that join or leave such a set are those ending in (a, b]: a short range of the
(organization, end_time, ...) index. So a count read at `a` is carried to `b` exactly by
counting that range (each endpoint in its own SQL), not by counting the whole set again. A
value is carried at most CARRY_WITHIN, so that range stays short; past it, it is read again.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Generic, NamedTuple, TypeVar

from store.caches import LatestCache
from store.database import database_proxy

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# How far from the instant it was read at a value is carried; beyond it, read again.
CARRY_WITHIN = timedelta(minutes=5)


class Reading(NamedTuple, Generic[V]):
    """A value as kept: the snapshot it was read in, and the instant it was read at (None
    for a set that does not move with time). A tuple: made on every page, it costs less."""

    token: Hashable
    at: datetime | None
    value: V


class CarriedReadings(Generic[K, V]):
    """The last value read for each key, with its snapshot and instant (see the module doc).

    `backwards`: whether a value is also carried to an instant before the one it was read at
    (the export's counts are; the feed's total only goes forwards).
    """

    def __init__(self, size: int, *, backwards: bool) -> None:
        self._cache: LatestCache[K, tuple[datetime | None, V]] = LatestCache(size)
        self._backwards = backwards

    def carries(self, then: datetime | None, at: datetime | None) -> bool:
        """Whether a value read at instant `then` can be carried to instant `at`."""
        if at is None or then is None:
            return at is None and then is None
        if at < then and not self._backwards:
            return False
        return abs(at - then) < CARRY_WITHIN

    def latest(self, key: K, at: datetime | None) -> Reading[V] | None:
        """The last value kept for `key` if it can be carried to `at`, whatever its snapshot
        (the caller compares the token, in SQL or after its first statement)."""
        found = self._cache.get(database_proxy.obj, key)
        if found is None:
            return None
        token, (then, value) = found
        return Reading(token, then, value) if self.carries(then, at) else None

    def in_snapshot(self, key: K, at: datetime | None, token: Hashable | None) -> Reading[V] | None:
        """The last value kept for `key` if it was read in snapshot `token` (never for None)
        and can be carried to `at`."""
        found = self.latest(key, at)
        return found if found is not None and token is not None and found.token == token else None

    def keep(self, key: K, token: Hashable | None, at: datetime | None, value: V) -> None:
        """Keep `value` as read at `at` in snapshot `token` (nothing when None)."""
        self._cache.put(database_proxy.obj, key, token, (at, value))
