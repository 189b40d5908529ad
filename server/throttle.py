"""Brute-force protection: failed attempts per client, in a bounded table.

Each client has a bucket of `limit` attempts that refills by one every `period` seconds. A
failed attempt takes one; a client whose bucket is empty is refused until it refills, without
its attempt being looked at. Successful attempts take nothing. The table forgets a client once
its bucket is full again, and holds at most `max_clients` (least recently seen go first), so
neither time nor a flood of distinct addresses makes it grow without bound.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# At ~100 bytes an entry, a few MB at most.
MAX_CLIENTS = 50_000


class FailureThrottle:
    """Counts failures per client key; thread-safe."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.period = period
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        # client -> (attempts left, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.period > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _left(self, key: str, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return float(self.limit)
        left, since = entry
        return min(float(self.limit), left + (now - since) / self.period)

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        if not self.enabled:
            return None
        with self._lock:
            now = self._clock()
            left = self._left(key, now)
            if left >= 1:
                return None
            return max((1 - left) * self.period, 0.001)

    def failed(self, key: str) -> None:
        """Count one failed attempt of `key`."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            left = max(self._left(key, now) - 1, 0.0)
            self._buckets[key] = (left, now)
            self._buckets.move_to_end(key)
            self._prune(now)

    def _prune(self, now: float) -> None:
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        # Entries whose bucket has refilled say nothing: drop them, oldest first.
        full_after = self.limit * self.period
        while self._buckets:
            key, (_, since) = next(iter(self._buckets.items()))
            if now - since < full_after:
                break
            del self._buckets[key]
