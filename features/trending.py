"""Top lists of items by score (the decay arithmetic is reco/decay.py).

>>> top = TopItems(2)
>>> for item, score in [("a", 1.0), ("b", 3.0), ("c", 2.0), ("a", 4.0)]:
...     _ = top.offer(item, score)
>>> top.ranked()
[('a', 4.0), ('b', 3.0)]
"""

from __future__ import annotations

import math

from reco.decay import add_decayed, subtract_decayed
from reco.keys import CATEGORY_PREFIX
from reco.records import Removed, TopOffer


class TopItems:
    """The ``n`` highest-scoring items, updated one offer at a time."""

    __slots__ = ("_scores", "n")

    def __init__(self, n: int, scores: dict[str, float] | None = None) -> None:
        self.n = n
        self._scores: dict[str, float] = dict(scores or {})

    def offer(self, item: str, score: float) -> bool:
        """Record ``item``'s latest score; True when the kept set or an order-relevant score
        changed. A non-finite score is a ValueError (it would break the order for good)."""
        if not math.isfinite(score):
            raise ValueError(f"top list score of {item!r} must be finite, not {score!r}")
        if item in self._scores:
            changed = self._scores[item] != score
            self._scores[item] = score
            return changed
        if len(self._scores) < self.n:
            self._scores[item] = score
            return True
        weakest = min(self._scores, key=self._scores.__getitem__)
        if score <= self._scores[weakest]:
            return False
        del self._scores[weakest]
        self._scores[item] = score
        return True

    def discard(self, item: str) -> bool:
        """Drops ``item`` (its score was taken back); True when it was kept."""
        return self._scores.pop(item, None) is not None

    def score(self, item: str) -> float | None:
        return self._scores.get(item)

    def members(self) -> frozenset[str]:
        return frozenset(self._scores)

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self._scores.items(), key=lambda kv: (-kv[1], kv[0]))

    def __len__(self) -> int:
        return len(self._scores)

    def __getstate__(self) -> tuple[int, dict[str, float]]:
        return self.n, self._scores

    def __setstate__(self, state: tuple[int, dict[str, float]]) -> None:
        self.n, self._scores = state


def offer_ranked(top: TopItems, ranked: list[tuple[str, float]]) -> bool:
    """Offers every entry of a ranked list to ``top``; True when ``top`` changed. Log-space
    scores only grow, so an item's latest reported score is a lower bound of its score now:
    one that left its category's list keeps its place here until others outgrow it.

    >>> top = TopItems(2)
    >>> offer_ranked(top, [("a", 3.0), ("b", 1.0)]), offer_ranked(top, [("c", 2.0)])
    (True, True)
    >>> top.ranked()
    [('a', 3.0), ('c', 2.0)]
    """
    changed = False
    for item, score in ranked:
        changed = top.offer(item, score) or changed
    return changed


def merge_report(top: TopItems, key: str, report: list[tuple[str, float]] | Removed) -> bool:
    """The global popular list after a list's report: a category's trending items offered
    (``offer_ranked``), or an item an erasure took all of (``Removed``) dropped; the other
    lists (newest items, rankings) do not feed it. True when ``top`` changed.

    >>> top = TopItems(3)
    >>> merge_report(top, "category/a", [("x", 2.0)]), merge_report(top, "new/a", [("y", 9.0)])
    (True, False)
    >>> merge_report(top, "category/a", Removed("x")), top.ranked()
    (True, [])
    """
    if not key.startswith(CATEGORY_PREFIX):
        return False
    if isinstance(report, Removed):
        return top.discard(report.item_id)
    return offer_ranked(top, report)


def apply_offer(top: TopItems, offer: TopOffer) -> bool:
    """A category's list (or a ranking) after an item's offer: its new score, or, ``removed``,
    none (an erasure took back all of it); True when ``top`` changed.

    >>> top = TopItems(5)
    >>> apply_offer(top, TopOffer("category/shoes", "a", 3.0)), top.ranked()
    (True, [('a', 3.0)])
    >>> apply_offer(top, TopOffer("category/shoes", "a", 0.0, removed=True)), top.ranked()
    (True, [])
    """
    if offer.removed:
        return top.discard(offer.item_id)
    return top.offer(offer.item_id, offer.score)


def learn_decayed(top: TopItems, item: str, weight: float, ts: int, half_life_ms: int,
                  retract: bool = False) -> bool:
    """Adds ``weight`` at ``ts`` to ``item``'s decayed score in ``top`` (a segment's or a
    country's list), or takes it back (``retract``: an erased user's signal; the item leaves
    when nothing of its score is left); True when ``top`` changed.

    >>> top = TopItems(5)
    >>> learn_decayed(top, "a", 2.0, 0, 1_000), learn_decayed(top, "a", 2.0, 0, 1_000, True)
    (True, True)
    >>> top.ranked()
    []
    """
    if retract:
        score = subtract_decayed(top.score(item), weight, ts, half_life_ms)
        return top.discard(item) if score is None else top.offer(item, score)
    return top.offer(item, add_decayed(top.score(item), weight, ts, half_life_ms))


def merge_ranked(lists: list[list[tuple[str, float]]], n: int) -> list[tuple[str, float]]:
    """The top ``n`` of several ranked lists (an item keeps its best score)."""
    best: dict[str, float] = {}
    for ranked in lists:
        for item, score in ranked:
            if score > best.get(item, -math.inf):
                best[item] = score
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
