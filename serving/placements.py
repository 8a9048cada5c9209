"""The placements beside the personal list. Each leaves out what the user bought, what the
request excludes and what the catalog says cannot be bought, and tops a short answer up from
the global popular list, saying so in the reason.

- ``similar``, the product page: items seen with this one in the same sessions (the job's
  per-item co-occurrence, on the ``item_features`` topic), strongest first, scored relative
  to the strongest.
- ``popular``, category and home pages: a category's trending items or its newest ones (the
  job's category lists, on ``popular_lists``), or the global popular list.

>>> from reco.v1 import recommendations_pb2 as pb
>>> shoe = pb.ItemFeatures(item_id="shoe", category="shoes", co_occurring=[
...     pb.ItemAffinity(item_id="sock", affinity=4), pb.ItemAffinity(item_id="lace", affinity=2)])
>>> popular = pb.RecommendationList(items=[pb.RecommendedItem(item_id="hat", score=1.0)])
>>> [(i[0], i[1], i[3]) for i in similar_items("shoe", shoe, [popular], 3, set(), {"lace"})]
[('sock', 1.0, 'cooccur:with=shoe'), ('hat', 1.0, 'popular:top-up')]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from online_models.mixes import PoolItem
from reco.v1 import recommendations_pb2 as pb

PERSONAL, SIMILAR, POPULAR = "personal", "similar", "popular"
BY = ("trending", "new")  # what a popular answer ranks by: the job's two category lists


def similar_items(item_id: str, features: pb.ItemFeatures | None,
                  fallback: Sequence[pb.RecommendationList], k: int, excluded: Collection[str],
                  unavailable: Collection[str]) -> list[PoolItem]:
    """Up to ``k`` items for the page of ``item_id``."""
    left_out = {item_id, *excluded, *unavailable}
    chosen: list[PoolItem] = []
    if features is not None and features.co_occurring:
        strongest = max(o.affinity for o in features.co_occurring) or 1.0
        chosen = [(o.item_id, o.affinity / strongest, "cooccur", f"cooccur:with={item_id}",
                   features.category)
                  for o in features.co_occurring if o.item_id not in left_out][:k]
    return _top_up(chosen, fallback, k, left_out,
                   "popular:top-up" if chosen else "popular:no-similar-items")


def popular_items(wanted: Sequence[pb.RecommendationList],
                  fallback: Sequence[pb.RecommendationList], k: int, excluded: Collection[str],
                  unavailable: Collection[str]) -> list[PoolItem]:
    """Up to ``k`` items of the list asked for (none when it does not exist), in its order,
    then of the fallback, saying so in their reason."""
    left_out = {*excluded, *unavailable}
    chosen = _top_up([], wanted, k, left_out, "")
    return _top_up(chosen, fallback, k, left_out, "popular:top-up")


def _top_up(chosen: list[PoolItem], lists: Sequence[pb.RecommendationList], k: int,
            left_out: Collection[str], reason: str) -> list[PoolItem]:
    """``chosen`` and then the lists' items not left out nor chosen, up to ``k``; a top-up
    (``reason`` given) says so in place of the items' own reasons and sources."""
    taken = {item for item, *_ in chosen}
    for listing in lists:
        for i in listing.items:
            if len(chosen) >= k:
                return chosen
            if i.item_id not in left_out and i.item_id not in taken:
                source = "popular" if reason else i.source or "popular"
                chosen.append((i.item_id, i.score, source, reason or i.reason, i.category))
                taken.add(i.item_id)
    return chosen
