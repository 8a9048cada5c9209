"""Candidate mixes: the arms of the serving policy.

The job publishes each user's candidate pool: items from several sources, each scored 0..1
within its source. A mix weights the sources; the policy picks the mix per request (given the
context) and ``serve`` blends the pool with it (online_models/candidates.py), optionally
re-ranked for diversity. Sources:

- ``recent``: the user's own recent items not bought (viewed, wishlisted, carted), by affinity;
- ``cooccur``: items seen in the same sessions as the user's recent items;
- ``factors``: implicit ALS, the user folded into the latest item factors;
- ``category``: trending items of the user's preferred categories;
- ``new``: items first seen lately in those categories (exploration for new items);
- ``popular``: globally trending (the cold-start list, and the top-up).

>>> pool = [("a", 1.0, "recent", "recent", "shoes"), ("b", 1.0, "category",
...         "trending:category=bags", "bags"), ("c", 0.5, "popular", "popular", "")]
>>> [(item, source) for item, _, source, _, _ in serve(pool, "personal", exclude=(), k=2)]
[('a', 'recent'), ('b', 'category')]
>>> [item for item, *_ in serve(pool, "trending", exclude=("b",), k=3)]
['c', 'a']
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from online_models.candidates import blend, mmr

SOURCES = ("recent", "cooccur", "factors", "category", "new", "popular")
MIXES: dict[str, dict[str, float]] = {
    "personal": {"recent": 1.0, "cooccur": 0.8, "factors": 0.6, "category": 0.5, "new": 0.1,
                 "popular": 0.1},
    "similar": {"cooccur": 1.0, "factors": 0.9, "category": 0.7, "recent": 0.4, "new": 0.2,
                "popular": 0.1},
    "trending": {"category": 1.0, "popular": 0.6, "recent": 0.3, "cooccur": 0.3, "factors": 0.3,
                 "new": 0.2},
    "explore": {"new": 1.0, "category": 0.6, "popular": 0.5, "cooccur": 0.3, "factors": 0.3,
                "recent": 0.2},
}
ARMS = tuple(MIXES)

# item id, score within its source (0..1), source, reason, category ("" when unknown)
PoolItem = tuple[str, float, str, str, str]


def serve(pool: Sequence[PoolItem], arm: str, exclude: Collection[str], k: int,
          diversity: float = 0.0) -> list[PoolItem]:
    """The ``k`` items of ``pool`` the mix ``arm`` ranks first (each item once, with the
    source that scored it best), re-ranked by MMR over categories when ``diversity`` > 0."""
    weights = MIXES[arm]
    by_source: dict[str, list[tuple[str, float]]] = {}
    details: dict[tuple[str, str], PoolItem] = {}
    for entry in pool:
        item, score, source = entry[0], entry[1], entry[2]
        by_source.setdefault(source, []).append((item, score))
        details.setdefault((item, source), entry)
    blended = blend(by_source, weights, exclude, k if diversity <= 0 else 3 * k)
    if diversity > 0:
        categories = {item: details[(item, source)][4] or item for item, _, source in blended}
        blended = mmr(blended, categories, trade_off=1.0 - diversity, n=k)
    return [(item, value, source, details[(item, source)][3], details[(item, source)][4])
            for item, value, source in blended]
