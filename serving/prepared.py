"""What a stored list gives every request until it changes, prepared once: the candidate pool
(with the items co-occurring with the user's recent ones), the user's part of the bandit
context, and, per mix and k, the blended items and their impression JSON. A request then only
builds its context, lets the policy choose the mix and fills in its id and propensity: the
serving path stays a few tens of microseconds of Python instead of a few hundred.

The servicer rebuilds an entry when the stored bytes it came from change, and a short while after
it was built (co-occurrences come from item records that change on their own).

>>> from reco.v1 import recommendations_pb2 as pb
>>> stored = pb.RecommendationList(user_id="u", segment="2", items=[
...     pb.RecommendedItem(item_id="a", score=1.0, source="recent", reason="recent"),
...     pb.RecommendedItem(item_id="b", score=0.5, source="popular", reason="popular")])
>>> p = Prepared([stored], cold_start=False, neighbours=lambda item: [("c", 2.0)])
>>> [(item, source) for item, _, source, _, _ in p.served("personal", 3, 0.0, ())]
[('a', 'recent'), ('c', 'cooccur'), ('b', 'popular')]
>>> items = p.served("personal", 3, 0.0, ())
>>> p.impression_items("personal", 3, items, 0.25, cached=True)[:61]
'[{"item_id":"a","position":0,"score":1.0,"reason":"recent","s'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence

from online_models.mixes import PoolItem, serve
from online_models.pool import cooccurring
from reco.v1 import recommendations_pb2 as pb

COOCCUR_SEEDS = 3  # recent items whose co-occurring items join the pool


class Prepared:
    """One user's (or, for new users, one segment's) serving inputs."""

    __slots__ = ("_json", "_served", "chosen", "cold_start", "excluded", "pool", "segment",
                 "user")

    def __init__(self, lists: Sequence[pb.RecommendationList], cold_start: bool,
                 neighbours: Callable[[str], Sequence[tuple[str, float]]],
                 segment: str = "") -> None:
        self.cold_start = cold_start
        self.segment = segment
        self.chosen = lists[0] if lists else pb.RecommendationList()
        self.pool: list[PoolItem] = [
            (i.item_id, i.score, i.source or "popular", i.reason, i.category)
            for found in lists for i in found.items]
        self.pool += cooccurring([i.item_id for i in self.chosen.items if i.source == "recent"],
                                 neighbours, COOCCUR_SEEDS)
        self.user: dict[str, float] = dict(self.chosen.features) if not cold_start else {}
        if cold_start and segment:
            self.user[f"seg:{segment}"] = 1.0
        self.excluded = frozenset(self.chosen.excluded_item_ids)
        self._served: dict[tuple[str, int], list[PoolItem]] = {}
        self._json: dict[tuple[str, int], list[str]] = {}

    @property
    def last_event_ts(self) -> int:
        return 0 if self.cold_start else self.chosen.last_event_ts

    def served(self, arm: str, k: int, diversity: float, exclude: Collection[str]
               ) -> list[PoolItem]:
        """The pool blended by the mix ``arm``: cached unless the request excludes items."""
        if exclude:
            return serve(self.pool, arm, {*exclude, *self.excluded}, k, diversity)
        items = self._served.get((arm, k))
        if items is None:
            items = self._served[arm, k] = serve(self.pool, arm, self.excluded, k, diversity)
        return items

    def impression_items(self, arm: str, k: int, served: Sequence[PoolItem], propensity: float,
                         cached: bool) -> str:
        """The ``items`` of the impression record (reco/impressions.py) as JSON text, for what
        ``served`` returned; ``cached``: it was this entry's list for ``arm`` and ``k`` (the
        request excluded nothing), so its JSON is kept too."""
        parts = self._json.get((arm, k)) if cached else None
        if parts is None:
            parts = [json.dumps({"item_id": item, "position": n, "score": score,
                                 "reason": reason, "source": source}, separators=(",", ":"))[:-1]
                     for n, (item, score, source, reason, _) in enumerate(served)]
            if cached:
                self._json[arm, k] = parts
        tail = f',"propensity":{json.dumps(propensity)}}}'
        return "[" + ",".join(part + tail for part in parts) + "]"
