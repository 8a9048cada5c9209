"""Product affinity and category preferences.

Product affinity: the user's weighted interactions with an item over all their weighted
interactions, log-normalised (``log1p(w_item) / log1p(w_total)``) so one obsessively viewed item
does not drown the rest. The items kept are bounded (the strongest ``limit``; a newcomer evicts
the weakest, space-saving style, inheriting its weight so totals stay honest).

Category preferences: recency-weighted sums per category, decayed with a half-life and kept in
log space (one number per category, O(1) per event), exposed as a vector that sums to one.

>>> a = ItemAffinity(limit=2)
>>> for item, w in [("a", 1.0), ("a", 5.0), ("b", 1.0), ("c", 3.0)]:
...     a.add(item, w)
>>> sorted(a.items), round(a.affinity("a"), 3)
(['a', 'c'], 0.812)
>>> p = CategoryPreferences(half_life_ms=1_000)
>>> p.add("shoes", 1.0, ts=0); p.add("bags", 1.0, ts=1_000)
>>> {c: round(v, 3) for c, v in p.vector().items()}
{'bags': 0.667, 'shoes': 0.333}
"""

from __future__ import annotations

import math

from reco.decay import add_decayed


class ItemAffinity:
    __slots__ = ("items", "limit", "total")

    def __init__(self, limit: int = 20) -> None:
        self.limit = limit
        self.items: dict[str, float] = {}
        self.total = 0.0

    def add(self, item: str, weight: float) -> None:
        if weight <= 0:
            return
        self.total += weight
        if item in self.items or len(self.items) < self.limit:
            self.items[item] = self.items.get(item, 0.0) + weight
            return
        weakest = min(self.items, key=self.items.__getitem__)
        inherited = self.items.pop(weakest)
        self.items[item] = inherited + weight

    def affinity(self, item: str) -> float:
        weight = self.items.get(item, 0.0)
        return math.log1p(weight) / math.log1p(self.total) if self.total > 0 else 0.0

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(((i, self.affinity(i)) for i in self.items), key=lambda kv: (-kv[1], kv[0]))

    def __getstate__(self) -> tuple[int, dict[str, float], float]:
        return self.limit, self.items, self.total

    def __setstate__(self, state: tuple[int, dict[str, float], float]) -> None:
        self.limit, self.items, self.total = state


class CategoryPreferences:
    __slots__ = ("half_life_ms", "scores")

    def __init__(self, half_life_ms: int) -> None:
        self.half_life_ms = half_life_ms
        self.scores: dict[str, float] = {}  # log2 decayed sums

    def add(self, category: str, weight: float, ts: int) -> None:
        if weight > 0:
            self.scores[category] = add_decayed(self.scores.get(category), weight, ts,
                                                self.half_life_ms)

    def vector(self, limit: int = 0) -> dict[str, float]:
        """Normalised preferences (largest first; the strongest ``limit`` if set). Every score
        decays at the same rate, so the shares do not depend on when they are read."""
        if not self.scores:
            return {}
        top = max(self.scores.values())
        values = {c: 2.0 ** (s - top) for c, s in self.scores.items()}
        total = sum(values.values())
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        return {c: v / total for c, v in (ranked[:limit] if limit else ranked)}

    def prune(self, keep: int) -> None:
        """Keeps the ``keep`` strongest categories (bounded state)."""
        if len(self.scores) > keep:
            strongest = sorted(self.scores, key=self.scores.__getitem__, reverse=True)[:keep]
            self.scores = {c: self.scores[c] for c in strongest}

    def __getstate__(self) -> tuple[int, dict[str, float]]:
        return self.half_life_ms, self.scores

    def __setstate__(self, state: tuple[int, dict[str, float]]) -> None:
        self.half_life_ms, self.scores = state
