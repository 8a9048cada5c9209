"""Sliding-window sums over event time, kept in fixed-width buckets.

An update costs O(1) amortised: each bucket is added once and expired once, and the running
totals are adjusted incrementally, never recomputed from the history. State is bounded by
``window_ms / bucket_ms`` buckets times the keys seen in them.

>>> w = SlidingWindowSum(window_ms=3_000, bucket_ms=1_000)
>>> w.add("shoes", 1.0, ts=0); w.add("bags", 2.0, ts=1_500); w.add("shoes", 1.0, ts=2_100)
>>> w.totals()
{'shoes': 2.0, 'bags': 2.0}
>>> w.advance(3_200)  # the bucket of ts=0 leaves the window
>>> w.totals()
{'shoes': 1.0, 'bags': 2.0}
"""

from __future__ import annotations

from collections import deque
from typing import Any

_EPSILON = 1e-9
Key = str | int


class SlidingWindowSum:
    """Per-key sums over the last ``window_ms`` of event time (bucket granularity)."""

    __slots__ = ("_buckets", "_now", "_totals", "bucket_ms", "window_ms")

    def __init__(self, window_ms: int, bucket_ms: int) -> None:
        if bucket_ms <= 0 or window_ms < bucket_ms:
            raise ValueError("need 0 < bucket_ms <= window_ms")
        self.window_ms = window_ms
        self.bucket_ms = bucket_ms
        self._now = -(2**62)
        self._buckets: deque[tuple[int, dict[Key, float]]] = deque()
        self._totals: dict[Key, float] = {}

    def _first_live_bucket(self) -> int:
        return (self._now - self.window_ms) // self.bucket_ms + 1

    def advance(self, now_ms: int) -> None:
        """Move the window's end to ``now_ms`` (never backwards) and expire old buckets."""
        self._now = max(self._now, now_ms)
        first = self._first_live_bucket()
        while self._buckets and self._buckets[0][0] < first:
            _, counts = self._buckets.popleft()
            for key, value in counts.items():
                left = self._totals[key] - value
                if abs(left) < _EPSILON:
                    del self._totals[key]
                else:
                    self._totals[key] = left

    def add(self, key: Key, value: float, ts: int) -> None:
        """Add ``value`` to ``key`` at event time ``ts``. The window ends at the latest event
        time seen; an event older than the window is ignored."""
        self.advance(ts)
        index = ts // self.bucket_ms
        if index < self._first_live_bucket():
            return
        bucket = self._bucket_for(index)
        bucket[key] = bucket.get(key, 0.0) + value
        total = self._totals.get(key, 0.0) + value
        if abs(total) < _EPSILON:  # a value taken back (an erasure): nothing is left
            self._totals.pop(key, None)
        else:
            self._totals[key] = total

    def _bucket_for(self, index: int) -> dict[Key, float]:
        if not self._buckets or self._buckets[-1][0] < index:
            self._buckets.append((index, {}))
            return self._buckets[-1][1]
        for position in range(len(self._buckets) - 1, -1, -1):
            bucket_index, counts = self._buckets[position]
            if bucket_index == index:
                return counts
            if bucket_index < index:
                self._buckets.insert(position + 1, (index, {}))
                return self._buckets[position + 1][1]
        self._buckets.appendleft((index, {}))
        return self._buckets[0][1]

    @property
    def latest_ms(self) -> int:
        """The latest event time seen: the window's own clock (it never goes back)."""
        return self._now

    def totals(self) -> dict[Key, float]:
        return dict(self._totals)

    def total(self, key: Key) -> float:
        return self._totals.get(key, 0.0)

    def __len__(self) -> int:
        return len(self._buckets)

    # The running totals are stored with the buckets: totals rebuilt on load would add the
    # buckets in another order than the running updates did, and differ in the last bits, so
    # a job (which loads its state per event) and the evaluation harness (which keeps it in
    # memory) would publish different features for the same events.
    def __getstate__(self) -> tuple[Any, ...]:
        return self.window_ms, self.bucket_ms, self._now, list(self._buckets), self._totals

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.window_ms, self.bucket_ms, self._now, buckets = state[:4]
        self._buckets = deque(buckets)
        if len(state) > 4:
            self._totals = state[4]
            return
        self._totals = {}  # pickled before the totals were kept
        for _, counts in self._buckets:
            for key, value in counts.items():
                self._totals[key] = self._totals.get(key, 0) + value
