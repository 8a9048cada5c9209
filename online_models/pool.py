"""A user's candidate pool, as the job publishes it: up to ``n`` items per source, each scored
0..1 within its source (divided by the source's best), with the reason and, where the source
knows it, the category. The server's policy blends the pool per request (online_models/mixes.py).

>>> pool = candidate_pool(recent=[("a", 0.8), ("b", 0.4)],
...                       trending=[("c", 6.0, "trending:category=bags")],
...                       popular=[("d", 10.0, "popular"), ("e", 5.0, "popular")], n=5)
>>> [(item, score, source, category) for item, score, source, _, category in pool]
... # doctest: +NORMALIZE_WHITESPACE
[('a', 1.0, 'recent', ''), ('b', 0.5, 'recent', ''), ('c', 1.0, 'category', 'bags'),
 ('d', 1.0, 'popular', ''), ('e', 0.5, 'popular', '')]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from online_models.factors import ItemFactors
from online_models.mixes import PoolItem, own_items
from online_models.trending import Ranked, Recommendation, TrendingRecommender
from reco.keys import POPULAR_LIST, category_key, new_items_key


def new_items(category_weights: dict[str, float], newest: Callable[[str], Ranked | None],
              exclude: Collection[str], n: int, categories: int = 3) -> list[Recommendation]:
    """The newest items (by first interaction) of the user's preferred categories: recommended
    on content (their category) before they have the interactions other sources need. Scored
    by the category's preference, newest first within it.

    >>> newest = {"shoes": [("s9", 50.0), ("s8", 40.0)], "bags": [("b9", 60.0)]}.get
    >>> new_items({"shoes": 0.7, "bags": 0.3}, newest, exclude={"s8"}, n=3)
    [('s9', 0.7, 'new:category=shoes'), ('b9', 0.3, 'new:category=bags')]
    """
    out: list[Recommendation] = []
    liked = sorted(category_weights.items(), key=lambda kv: (-kv[1], kv[0]))[:categories]
    for category, weight in liked:
        ranked = [item for item, _ in newest(category) or () if item not in exclude]
        out += [(item, weight * (1 - rank / (10 * n)), f"new:category={category}")
                for rank, item in enumerate(ranked)]
    return sorted(out, key=lambda r: -r[1])[:n]


RECENT_CANDIDATES = 20


def _scaled(scores: Sequence[float]) -> list[float]:
    top = max(scores, default=0.0)
    return [s / top if top > 0 else 1.0 for s in scores]


def candidate_pool(recent: Sequence[tuple[str, float]], trending: Sequence[Recommendation],
                   popular: Sequence[Recommendation], n: int,
                   new: Sequence[Recommendation] = (),
                   factors: Sequence[Recommendation] = (),
                   recent_n: int | None = None,
                   session: Sequence[Recommendation] = ()) -> list[PoolItem]:
    pool: list[PoolItem] = []
    recent = recent[:recent_n or n]
    for (item, _), score in zip(recent, _scaled([s for _, s in recent]), strict=True):
        pool.append((item, score, "recent", "recent", ""))
    for source, recs in (("session", session[:n]), ("factors", factors[:n]),
                         ("category", trending[:n]),
                         ("new", new[:n]), ("popular", popular[:n])):
        for (item, _, reason), score in zip(recs, _scaled([s for _, s, _ in recs]),
                                            strict=True):
            pool.append((item, score, source, reason, reason.partition("category=")[2]))
    return pool


def excluded_purchases(pool: Sequence[PoolItem], purchased: Sequence[str]) -> list[str]:
    """The bought items the pool does not list again as the user's own (the server leaves
    them out of every source).

    >>> excluded_purchases([("a", 1.0, "recent", "recent", ""), ("b", 1.0, "popular", "", "")],
    ...                    ["a", "b", "c"])
    ['b', 'c']
    """
    relisted = set(own_items(pool))
    return [item for item in purchased if item not in relisted]


def cooccurring(recent: Sequence[str], neighbours: Callable[[str], Sequence[tuple[str, float]]],
                seeds: int = 3, source: str = "cooccur") -> list[PoolItem]:
    """Items seen in the same sessions as the user's most recent ``seeds`` items, by summed
    co-occurrence, scored 0..1 (the server adds them to the pool; the evaluation too); with
    another ``neighbours`` and ``source``, the same for another item-to-item relation (the
    catalog's ``content`` similarity).

    >>> cooccurring(["a", "b"], {"a": [("x", 4.0)], "b": [("x", 2.0), ("y", 3.0)]}.get)
    [('x', 1.0, 'cooccur', 'cooccur:a', ''), ('y', 0.5, 'cooccur', 'cooccur:a', '')]
    """
    scores: dict[str, float] = {}
    for item in recent[:seeds]:
        for other, affinity in neighbours(item) or ():
            scores[other] = scores.get(other, 0.0) + affinity
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return []
    reason = f"{source}:{recent[0]}"
    return [(item, score / top, source, reason, "") for item, score in scores.items()]


def build_pool(profile: Any, recent: Sequence[tuple[str, float]],
               tops: Callable[[str], Ranked | None], recommender: TrendingRecommender,
               factors: ItemFactors | None, n: int,
               session: Sequence[tuple[str, float]] = ()) -> list[PoolItem]:
    """A user's candidate pool from the profile (features/profile.py or basic_profile.py), the
    user's own items ranked (``ProfileBook.recent_candidates``, at least
    ``RECENT_CANDIDATES``), the broadcast top lists by their keys (reco/keys.py: a category's
    trending items, a category's newest, the popular list) and the latest item factors: what
    the job publishes per user; ``session``: the session kNN's items for her latest session
    (userstep/step.py), of which those she has not bought and that are not among her own
    ``recent`` are candidates (serving scores her own items by ``recent`` only)."""
    bought = set(profile.purchased)
    weights = profile.category_weights()
    trending = recommender.recommend(weights, lambda c: tops(category_key(c)), [],
                                     exclude=bought)
    popular = recommender.popular(tops(POPULAR_LIST) or [], bought, n)
    new = new_items(weights, lambda c: tops(new_items_key(c)), bought, n)
    factorised: list[Recommendation] = []
    if factors is not None:
        user = factors.fold_in(profile.interactions())
        if user is not None:
            reason = f"factors:{factors.version}"
            factorised = [(item, score, reason) for item, score in
                          factors.top_n(user, n, bought | set(profile.cart))]
    own = {item for item, _ in recent[:RECENT_CANDIDATES]}
    neighbours = [(item, score, "session-knn") for item, score in session
                  if item not in bought and item not in own]
    return candidate_pool(recent, trending, popular, n, new=new, factors=factorised,
                          recent_n=RECENT_CANDIDATES, session=neighbours)
