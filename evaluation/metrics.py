"""Prequential ranking metrics: for each target event the rank of the target item in the list
asked for just before it (HR@K, NDCG@K, MRR@K), and what the lists expose overall (catalogue
coverage, novelty, Gini of exposure), split by new and returning users and by any further
groups the caller names per target.

>>> m = Metrics(ks=(1, 5))
>>> m.add(["a", "b", "c"], "b", returning=True)
>>> m.add(["x"], "b", returning=False)
>>> s = m.summary(catalogue=10, popularity={"a": 5, "b": 1, "c": 1, "x": 1})
>>> s["all"]["hr@5"], round(s["all"]["ndcg@5"], 3), s["all"]["mrr@5"], s["returning"]["hr@1"]
(0.5, 0.315, 0.25, 0.0)
>>> g = Metrics(ks=(1,))
>>> g.add(["b"], "b", returning=True, groups=["segment:loyal"])
>>> g.add(["a"], "b", returning=True, groups=["segment:at_risk"])
>>> s = g.summary(catalogue=10, popularity={"a": 1, "b": 1})
>>> s["segment:loyal"]["hr@1"], s["segment:at_risk"]["hr@1"], s["all"]["hr@1"]
(1.0, 0.0, 0.5)

Two methods asked for the same targets compare target by target (``paired``): the difference
of their means and a 95% interval for it, narrower than two separate intervals would give,
because both methods see the same easy and hard targets.

>>> other = Metrics(ks=(1, 5))
>>> other.add(["b"], "b", returning=True)
>>> other.add(["b"], "b", returning=False)
>>> diff = paired(m.ranks["all"], other.ranks["all"], "hr", 5)
>>> diff["difference"], round(diff["low"], 2), round(diff["high"], 2)
(-0.5, -1.48, 0.48)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

KS = (5, 10, 20)
_Z95 = 1.959964  # two-sided 95% under the normal approximation


def target_value(rank: int | None, metric: str, k: int) -> float:
    """One target's contribution to ``metric``@``k`` (``hr``, ``ndcg`` or ``mrr``), given
    the target's rank in the list (None: not listed)."""
    if rank is None or rank >= k:
        return 0.0
    return 1.0 if metric == "hr" else 1 / math.log2(rank + 2) if metric == "ndcg" else \
        1 / (rank + 1)


def paired(a: Sequence[int | None], b: Sequence[int | None], metric: str, k: int
           ) -> dict[str, float]:
    """``metric``@``k`` of ranks ``a`` minus that of ranks ``b`` (the same targets, in the
    same order), with a 95% interval (normal approximation over the per-target differences)."""
    if len(a) != len(b):
        raise ValueError(f"paired comparison of {len(a)} and {len(b)} targets")
    n = len(a)
    diffs = [target_value(x, metric, k) - target_value(y, metric, k)
             for x, y in zip(a, b, strict=True)]
    mean = sum(diffs) / n if n else 0.0
    variance = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    half = _Z95 * math.sqrt(variance / n) if n else 0.0
    return {"difference": mean, "low": mean - half, "high": mean + half, "targets": n}


def gini(counts: Sequence[float]) -> float:
    """0 when every item is shown equally often, towards 1 when a few take all exposure."""
    values = sorted(counts)
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


def comparison(a: Metrics, b: Metrics) -> dict[str, dict[str, float]]:
    """``a`` minus ``b`` over the same targets, every metric at every K, with 95% intervals."""
    return {f"{metric}@{k}": paired(a.ranks["all"], b.ranks["all"], metric, k)
            for k in KS for metric in ("hr", "ndcg", "mrr")}


class Metrics:
    def __init__(self, ks: Sequence[int] = KS) -> None:
        self.ks = tuple(ks)
        self.ranks: dict[str, list[int | None]] = {"all": [], "new": [], "returning": []}
        self.exposure: Counter[str] = Counter()
        self.shown_lists = 0

    def add(self, recommended: Sequence[str], target: str, returning: bool,
            groups: Sequence[str] = ()) -> None:
        """Scores one target; ``groups`` are further groups it counts in (e.g. the user's
        segment), each summarised like "new" and "returning"."""
        top = recommended[:max(self.ks)]
        rank = top.index(target) if target in top else None
        self.ranks["all"].append(rank)
        self.ranks["returning" if returning else "new"].append(rank)
        for group in groups:
            self.ranks.setdefault(group, []).append(rank)
        self.exposure.update(recommended[:10])
        self.shown_lists += 1

    def _ranking(self, ranks: list[int | None]) -> dict[str, float]:
        n = len(ranks)
        out: dict[str, float] = {"targets": n}
        for k in self.ks:
            for metric in ("hr", "ndcg", "mrr"):
                total = sum(target_value(r, metric, k) for r in ranks)
                out[f"{metric}@{k}"] = total / n if n else 0.0
        return out

    def summary(self, catalogue: int, popularity: Mapping[str, int]) -> dict[str, Any]:
        """Ranking metrics per group; exposure of the top-10 lists against the catalogue and
        the items' interaction counts (novelty: mean -log2 of an item's share)."""
        total = sum(popularity.values()) or 1
        shown = sum(self.exposure.values()) or 1
        novelty = sum(c * -math.log2(max(popularity.get(i, 0), 1) / total)
                      for i, c in self.exposure.items()) / shown
        exposure = [self.exposure.get(i, 0) for i in popularity] if popularity else []
        return {**{group: self._ranking(r) for group, r in self.ranks.items()},
                "coverage": len(self.exposure) / catalogue if catalogue else 0.0,
                "novelty": novelty, "gini": gini(exposure)}


def reachability(events: Sequence[Any], targets: set[str]) -> dict[str, float]:
    """Where the target items come from, as shares of the targets: items the user had touched
    before, items only other users had, items nobody had (no method that learns from the
    replay can rank those). An upper bound for any method, and for history-based ones.

    >>> from reco.events import Event
    >>> log = [Event("1", "product_view", "u", ts=1, item_id="a"),
    ...        Event("2", "add_to_cart", "u", ts=2, item_id="a"),
    ...        Event("3", "add_to_cart", "v", ts=3, item_id="a"),
    ...        Event("4", "add_to_cart", "v", ts=4, item_id="z")]
    >>> {kind: round(share, 2) for kind, share in reachability(log, {"add_to_cart"}).items()}
    {'own_history': 0.33, 'others_only': 0.33, 'never_seen': 0.33}
    """
    seen_by: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for event in events:
        if event.item_id is None:
            continue
        users = seen_by.setdefault(event.item_id, set())
        if event.event_type in targets:
            counts["own_history" if event.user_id in users else
                   "others_only" if users else "never_seen"] += 1
        users.add(event.user_id)
    total = sum(counts.values()) or 1
    return {kind: counts[kind] / total for kind in ("own_history", "others_only", "never_seen")}
