"""The first recommender: trending items in the user's preferred categories.

Each candidate from a category the user likes scores ``preference(category) * trend(item)``,
where ``trend`` is the item's decayed interaction count. Items the user bought are left out.
The list is topped up from global popularity, which alone is also the cold-start answer.
Ranking happens in log space (``log2 preference + log score``), and a returned score is the
candidate's share of the best one returned (``features.trending.relative``): the lists come
from other operators and partitions, each with its own event-time clock, so no "now" is
needed or mixed.

>>> from reco.decay import add_decayed
>>> h = 3_600_000
>>> tops = {"shoes": [("s1", add_decayed(None, 4.0, 0, h)), ("s2", add_decayed(None, 2.0, 0, h))],
...         "bags": [("b1", add_decayed(None, 8.0, 0, h))]}
>>> popular = [("b1", tops["bags"][0][1]), ("s1", tops["shoes"][0][1]), ("x", 0.0)]
>>> rec = TrendingRecommender(list_size=3)
>>> recs = rec.recommend({"shoes": 0.75, "bags": 0.25}, tops.get, popular, exclude={"s1"})
>>> [(item, round(score, 2), reason) for item, score, reason in recs]
... # doctest: +NORMALIZE_WHITESPACE
[('b1', 1.0, 'trending:category=bags'), ('s2', 0.75, 'trending:category=shoes'),
 ('x', 1.0, 'popular')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

from reco.decay import relative

Ranked = list[tuple[str, float]]  # (item id, log2 score), best first
Recommendation = tuple[str, float, str]  # item id, score, reason


class TrendingRecommender:
    def __init__(self, list_size: int, max_categories: int = 5) -> None:
        self.list_size = list_size
        self.max_categories = max_categories

    def recommend(self, category_weights: dict[str, float],
                  category_top: Callable[[str], Ranked | None], popular: Ranked,
                  exclude: Collection[str]) -> list[Recommendation]:
        candidates: list[tuple[float, str, str]] = []
        liked = sorted(category_weights.items(), key=lambda kv: (-kv[1], kv[0]))
        for category, weight in liked[: self.max_categories]:
            ranked = category_top(category)
            if ranked and weight > 0:
                offset = math.log2(weight)
                reason = f"trending:category={category}"
                candidates += [(-log - offset, item, reason) for item, log in ranked]
        candidates.sort()  # plain tuple order (best first) is much faster than a key function
        chosen: list[Recommendation] = []
        taken = set(exclude)
        best: float | None = None
        for negative_log, item, reason in candidates:
            if item not in taken:
                taken.add(item)
                best = -negative_log if best is None else best
                chosen.append((item, relative(-negative_log, best), reason))
                if len(chosen) == self.list_size:
                    return chosen
        return chosen + self.popular(popular, taken, self.list_size - len(chosen))

    def popular(self, popular: Ranked, exclude: Collection[str], n: int
                ) -> list[Recommendation]:
        """The cold-start list (and the top-up): globally trending items, scored as a share
        of the best one returned."""
        kept = [(item, log) for item, log in popular if item not in exclude][:max(0, n)]
        best = max((log for _, log in kept), default=0.0)
        return [(item, relative(log, best), "popular") for item, log in kept]
