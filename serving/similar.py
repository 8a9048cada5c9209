"""The product page's placement: items seen with this one in the same sessions (the job's
per-item co-occurrence, on the ``item_features`` topic), strongest first, scored relative to
the strongest; what the user bought, what the request excludes and what the catalog says
cannot be bought are left out; fewer than ``k`` are topped up from the popular list, with
that reason.

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

PLACEMENT = "similar"


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
    taken = {item for item, *_ in chosen}
    reason = "popular:top-up" if chosen else "popular:no-similar-items"
    for listing in fallback:
        for i in listing.items:
            if len(chosen) >= k:
                return chosen
            if i.item_id not in left_out and i.item_id not in taken:
                chosen.append((i.item_id, i.score, "popular", reason, i.category))
                taken.add(i.item_id)
    return chosen
