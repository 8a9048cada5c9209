"""Diversity re-ranking and catalogue coverage (blending by mix: online_models/mixes.py).

``mmr`` re-ranks for diversity: maximal marginal relevance with category overlap as the
similarity.

>>> categories = {"a": "shoes", "b": "shoes", "c": "bags"}
>>> [i for i, _, _ in mmr([("a", 1.0, "x"), ("b", 0.9, "x"), ("c", 0.5, "y")], categories,
...                         trade_off=0.5, n=3)]
['a', 'c', 'b']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Candidate = tuple[str, float, str]  # item id, score, reason


def mmr(candidates: Sequence[Candidate], categories: Mapping[str, str], trade_off: float,
        n: int) -> list[Candidate]:
    """Greedy maximal marginal relevance: each pick maximises
    ``trade_off * score - (1 - trade_off) * [its category was already picked]``."""
    pool = list(candidates)
    chosen: list[Candidate] = []
    seen: set[str] = set()
    while pool and len(chosen) < n:
        def gain(c: Candidate) -> float:
            repeat = 1.0 if categories.get(c[0]) in seen else 0.0
            return trade_off * c[1] - (1 - trade_off) * repeat

        pick = max(pool, key=gain)
        pool.remove(pick)
        chosen.append(pick)
        seen.add(categories.get(pick[0], ""))
    return chosen


def catalogue_coverage(lists: Sequence[Sequence[str]], catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    shown = {item for items in lists for item in items}
    return len(shown) / catalogue_size if catalogue_size else 0.0
