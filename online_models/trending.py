"""The first recommender: trending items in the user's preferred categories.

Each candidate from a category the user likes scores ``preference(category) * trend(item)``,
where ``trend`` is the item's decayed interaction count now. Items the user bought are left out.
The list is topped up from global popularity, which alone is also the cold-start answer.

>>> from features.trending import add_decayed
>>> h = 3_600_000
>>> tops = {"shoes": [("s1", add_decayed(None, 4.0, 0, h)), ("s2", add_decayed(None, 2.0, 0, h))],
...         "bags": [("b1", add_decayed(None, 8.0, 0, h))]}
>>> popular = [("b1", tops["bags"][0][1]), ("s1", tops["shoes"][0][1]), ("x", 0.0)]
>>> rec = TrendingRecommender(half_life_ms=h, list_size=3)
>>> recs = rec.recommend({"shoes": 0.75, "bags": 0.25}, tops.get, popular, exclude={"s1"},
...                      now_ms=0)
>>> [(item, round(score, 2), reason) for item, score, reason in recs]
... # doctest: +NORMALIZE_WHITESPACE
[('b1', 2.0, 'trending:category=bags'), ('s2', 1.5, 'trending:category=shoes'),
 ('x', 1.0, 'popular')]
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from features.trending import value_at

Ranked = list[tuple[str, float]]
Recommendation = tuple[str, float, str]  # item id, score, reason


class TrendingRecommender:
    def __init__(self, half_life_ms: int, list_size: int, max_categories: int = 5) -> None:
        self.half_life_ms = half_life_ms
        self.list_size = list_size
        self.max_categories = max_categories

    def recommend(self, category_weights: dict[str, float],
                  category_top: Callable[[str], Ranked | None], popular: Ranked,
                  exclude: Collection[str], now_ms: int) -> list[Recommendation]:
        scored: dict[str, Recommendation] = {}
        liked = sorted(category_weights.items(), key=lambda kv: (-kv[1], kv[0]))
        for category, weight in liked[: self.max_categories]:
            for item, log_score in category_top(category) or ():
                if item in exclude:
                    continue
                score = weight * value_at(log_score, now_ms, self.half_life_ms)
                if item not in scored or score > scored[item][1]:
                    scored[item] = (item, score, f"trending:category={category}")
        ranked = sorted(scored.values(), key=lambda r: (-r[1], r[0]))[: self.list_size]
        return ranked + self.popular(popular, {*exclude, *scored}, self.list_size - len(ranked),
                                     now_ms)

    def popular(self, popular: Ranked, exclude: Collection[str], n: int,
                now_ms: int) -> list[Recommendation]:
        """The cold-start list (and the top-up): globally trending items."""
        out: list[Recommendation] = []
        for item, log_score in popular:
            if len(out) >= n:
                break
            if item not in exclude:
                out.append((item, value_at(log_score, now_ms, self.half_life_ms), "popular"))
        return out
