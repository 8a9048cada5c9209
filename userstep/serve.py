"""What a stored list gives every request until it changes, prepared once: the candidate pool
(with the items co-occurring with the user's recent ones and, given the catalog's content
neighbours, the items most like them), the user's part of the bandit
context, and, per mix and k, a slate: the blended items, their response and their impression
JSON. A request then only builds its context, lets the policy choose the mix and fills in its
id and propensity: the serving path stays a few tens of microseconds of Python instead of a few
hundred.

The servicer rebuilds an entry when what it was built from changes: the stored list, or the
item and content records of its ``seeds`` (they change on their own).

>>> from reco.v1 import recommendations_pb2 as pb
>>> stored = pb.RecommendationList(user_id="u", segment="2", items=[
...     pb.RecommendedItem(item_id="a", score=1.0, source="recent", reason="recent"),
...     pb.RecommendedItem(item_id="b", score=0.5, source="popular", reason="popular")])
>>> p = Prepared([stored], cold_start=False, neighbours=lambda item: [("c", 2.0)])
>>> slate = p.slate("personal", 3, 0.0, ())
>>> [(item, source) for item, _, source, _, _ in slate.items], p.seeds
([('a', 'recent'), ('c', 'cooccur'), ('b', 'popular')], ('a',))
>>> [(i.item_id, i.propensity) for i in slate.response(0.25).items][:2]
[('a', 0.25), ('c', 0.25)]
>>> slate.impression_items(0.25)[:59]
'[{"propensity":0.25,"item_id":"a","position":0,"score":1.0,'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from json.encoder import encode_basestring_ascii

from online_models.mixes import PoolItem, serve
from online_models.pool import cooccurring
from reco.v1 import recommendations_pb2 as pb
from userstep.placements import from_lists

COOCCUR_SEEDS = 3  # recent items whose co-occurring items join the pool
json_string = encode_basestring_ascii  # a str as a JSON string, as json.dumps writes it
# Each item's JSON object starts with its propensity, written as this placeholder: outside a
# JSON string `{"` only opens an object, so replacing it cannot touch an id or a reason.
_PROPENSITY_AT = '{"propensity":0,'


def json_number(value: float) -> str:
    """A float as JSON (no NaN or infinity there)."""
    return repr(float(value)) if math.isfinite(value) else "null"


class Slate:
    """The items one mix serves from one prepared list, with the response and the impression
    items that show them, both built once and copied per request."""

    __slots__ = ("_impression", "_response", "items")

    def __init__(self, items: list[PoolItem], head: pb.GetRecommendationsResponse) -> None:
        self.items = items
        self._response = pb.GetRecommendationsResponse()
        self._response.CopyFrom(head)
        add = self._response.items.add
        for item, score, source, reason, category in items:
            add(item_id=item, score=score, source=source, reason=reason, category=category)
        # formatted here rather than by json.dumps over dicts: a third of the cost, and a slate
        # is built for most requests (a user's list changes between their page views)
        self._impression = "[" + ",".join(
            f'{_PROPENSITY_AT}"item_id":{json_string(item)},"position":{n},'
            f'"score":{json_number(score)},"reason":{json_string(reason)},'
            f'"source":{json_string(source)}}}'
            for n, (item, score, source, reason, _) in enumerate(items)) + "]"

    def response(self, propensity: float) -> pb.GetRecommendationsResponse:
        """A fresh response listing the items, each with ``propensity`` (the chosen mix's: the
        list is a deterministic function of it); the caller fills in the request's own fields."""
        response = pb.GetRecommendationsResponse()
        response.CopyFrom(self._response)
        for item in response.items:
            item.propensity = propensity
        return response

    def impression_items(self, propensity: float) -> str:
        """The ``items`` of the impression record (reco/impressions.py) as JSON text."""
        return self._impression.replace(_PROPENSITY_AT,
                                        f'{{"propensity":{json_number(propensity)},')


class Prepared:
    """One user's (or, for new users, one segment's) serving inputs."""

    __slots__ = ("_head", "_slates", "chosen", "cold_start", "excluded", "pool", "seeds",
                 "segment", "user")

    def __init__(self, lists: Sequence[pb.RecommendationList], cold_start: bool,
                 neighbours: Callable[[str], Sequence[tuple[str, float]]],
                 segment: str = "", default_model_version: str = "",
                 unavailable: Collection[str] = (),
                 alike: Callable[[str], Sequence[tuple[str, float]]] | None = None) -> None:
        self.cold_start = cold_start
        self.segment = segment
        self.chosen = chosen = lists[0] if lists else pb.RecommendationList()
        self.pool: list[PoolItem] = from_lists(lists, "")
        recent = [i.item_id for i in chosen.items if i.source == "recent"]
        self.seeds = tuple(recent[:COOCCUR_SEEDS])  # whose item records the pool depends on
        self.pool += cooccurring(recent, neighbours, COOCCUR_SEEDS)
        if alike is not None:  # the catalog's items most like hers: new ones before any event
            self.pool += cooccurring(recent, alike, COOCCUR_SEEDS, "content")
        self.user: dict[str, float] = dict(chosen.features) if not cold_start else {}
        if cold_start and segment:
            self.user[f"seg:{segment}"] = 1.0
        # bought, and what the catalog says cannot be bought (out of stock, discontinued)
        self.excluded = frozenset(chosen.excluded_item_ids).union(
            item for item, *_ in self.pool if item in unavailable)
        self._head = pb.GetRecommendationsResponse(
            segment=segment if cold_start else chosen.segment,
            model_version=chosen.model_version or default_model_version,
            updated_at_ms=chosen.updated_at_ms, cold_start=cold_start)
        self._slates: dict[tuple[str, int], Slate] = {}

    @property
    def last_event_ts(self) -> int:
        return 0 if self.cold_start else self.chosen.last_event_ts

    def ranked(self, arm: str, diversity: float, exclude: Collection[str]) -> list[PoolItem]:
        """The whole pool ranked by the mix ``arm``, bought and unavailable items included:
        for a request's filters (userstep/filters.py), which decide about them."""
        return serve(self.pool, arm, exclude, len(self.pool), diversity)

    def slate_of(self, items: list[PoolItem]) -> Slate:
        return Slate(items, self._head)

    def slate(self, arm: str, k: int, diversity: float, exclude: Collection[str]) -> Slate:
        """The pool blended by the mix ``arm``: kept unless the request excludes items."""
        if exclude:
            return Slate(serve(self.pool, arm, {*exclude, *self.excluded}, k, diversity),
                         self._head)
        slate = self._slates.get((arm, k))
        if slate is None:
            slate = self._slates[arm, k] = Slate(
                serve(self.pool, arm, self.excluded, k, diversity), self._head)
        return slate
