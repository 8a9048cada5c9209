"""Candidate blending and diversity re-ranking.

Candidates come from several sources (the user's own recent items, co-occurrence, category
trends, factorisation, popularity), each a ranked list with scores on its own scale. ``blend``
normalises each source's scores to 0..1, weights the sources (the bandit will choose these
weights), keeps each item once with the reason of the source that scored it best, and leaves
out excluded items (bought, in the cart). ``mmr`` re-ranks for diversity: maximal marginal
relevance with category overlap as the similarity.

>>> sources = {"recent": [("a", 3.0), ("b", 1.0)], "popular": [("c", 100.0), ("a", 50.0)]}
>>> blend(sources, {"recent": 1.0, "popular": 0.5}, exclude={"b"}, n=3)
[('a', 1.0, 'recent'), ('c', 0.5, 'popular')]
>>> categories = {"a": "shoes", "b": "shoes", "c": "bags"}
>>> [i for i, _, _ in mmr([("a", 1.0, "x"), ("b", 0.9, "x"), ("c", 0.5, "y")], categories,
...                         trade_off=0.5, n=3)]
['a', 'c', 'b']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

Candidate = tuple[str, float, str]  # item id, score, reason


def blend(sources: Mapping[str, Sequence[tuple[str, float]]], weights: Mapping[str, float],
          exclude: Collection[str], n: int) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    for source, ranked in sources.items():
        weight = weights.get(source, 0.0)
        if weight <= 0 or not ranked:
            continue
        top = max(score for _, score in ranked)
        low = min(score for _, score in ranked)
        span = top - low
        for item, score in ranked:
            if item in exclude:
                continue
            value = weight * ((score - low) / span if span > 0 else 1.0)
            if item not in best or value > best[item][1]:
                best[item] = (item, value, source)
    return sorted(best.values(), key=lambda c: (-c[1], c[0]))[:n]


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
