"""The placements beside the personal list, as ranked candidates: each placement's own items,
then its fallback's, whose reason says they top the answer up. The filters and business rules
(userstep/filters.py) then choose what is shown, so what cannot be bought, what the user bought
and what a request filters out never reach an answer, and a short answer is topped up.

- ``similar``, the product page: items seen with this one in the same sessions (the job's
  per-item co-occurrence, on the ``item_features`` topic) blended with the items most like it
  by content (serving/content.py): a new item is similar to items like it before any event,
  and the blend moves to behaviour as its co-occurrences accumulate.
- ``complementary``, the cart: items carted or bought in one session with the basket's
  (``bought_with``), summed over the basket, never the basket's own items nor close
  substitutes of them (same category, price within ``SUBSTITUTE_PRICE_RATIO``).
- ``popular``, category and home pages: a category's trending items or its newest ones (the
  job's category lists, on ``popular_lists``), or the global popular list.

>>> from reco.v1 import recommendations_pb2 as pb
>>> shoe = pb.ItemFeatures(item_id="shoe", category="shoes", co_occurring=[
...     pb.ItemAffinity(item_id="sock", affinity=4), pb.ItemAffinity(item_id="lace", affinity=2)])
>>> popular = pb.RecommendationList(items=[pb.RecommendedItem(item_id="hat", score=1.0)])
>>> boot = [pb.ItemAffinity(item_id="boot", affinity=0.9)]
>>> for item, score, source, reason, _ in similar_items("shoe", shoe, boot, lambda i: False,
...                                                     [popular]):
...     print(item, round(score, 2), source, reason)
sock 1.0 cooccur cooccur:with=shoe
lace 0.5 cooccur cooccur:with=shoe
boot 0.03 new new:similar-to=shoe
hat 1.0 popular popular:top-up
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

from features.items import UNKNOWN_CATEGORY
from online_models.mixes import PoolItem
from reco.v1 import recommendations_pb2 as pb
from userstep.filters import Facts, leaf_category

PERSONAL, SIMILAR, COMPLEMENTARY, POPULAR = "personal", "similar", "complementary", "popular"
BY = ("trending", "new", "views", "purchases")  # what a popular answer ranks by (the job's lists)
TOP_UP = "popular:top-up"
SUBSTITUTE_PRICE_RATIO = 1.5  # same category and within this price ratio: a substitute
# co-occurrences at which a product page weighs behaviour as much as content: chosen on the first
# 40,000 events of Taobao (HR@10 0.1454, 0.1743, 0.1996 for 5, 1, 0.2; docs/evaluation.md)
BLEND_PRIOR = 0.2
# the weight of the factor neighbours when the last training knew the item (as if it had this
# many co-occurrences), chosen on the first 50,000 YooChoose and 40,000 Taobao events: HR@10
# 0.4063 -> 0.4268 and 0.1995 -> 0.1982 for 0 -> 0.2 (1: the same and 0.1976; docs/evaluation.md)
FACTOR_EVIDENCE = 0.2


def similar_items(item_id: str, features: pb.ItemFeatures | None,
                  content: Sequence[pb.ItemAffinity], has_signals: Callable[[str], bool],
                  fallback: Sequence[pb.RecommendationList],
                  factors: Sequence[tuple[str, float]] = (),
                  factor_evidence: float = FACTOR_EVIDENCE) -> list[PoolItem]:
    """The candidates for the page of ``item_id``: its session co-occurrence, its factor
    neighbours (the last training's, ``ItemFactors.similar``) and its content similarity,
    each weighed by its evidence: co-occurrence by how much was seen, factors by
    ``factor_evidence`` when the training knew the item, content by ``BLEND_PRIOR``. The blend
    thus shifts from content to behaviour as the item's co-occurrences accumulate."""
    cooccurring = list(features.co_occurring) if features is not None else []
    seen = sum(o.affinity for o in cooccurring)
    known = factor_evidence if factors else 0.0
    total = seen + known + BLEND_PRIOR
    scored: dict[str, tuple[float, float, str]] = {}  # item -> (score, best share, reason)
    strongest = max((o.affinity for o in cooccurring), default=0.0) or 1.0
    for o in cooccurring:
        _blend(scored, o.item_id, seen / total * o.affinity / strongest,
               f"cooccur:with={item_id}")
    for other, cosine in factors:
        _blend(scored, other, known / total * cosine, f"factors:similar-to={item_id}")
    for o in content:
        kind = "content" if has_signals(o.item_id) else "new"
        _blend(scored, o.item_id, BLEND_PRIOR / total * o.affinity,
               f"{kind}:similar-to={item_id}")
    top = max((score for score, _, _ in scored.values()), default=0.0) or 1.0
    ranked = sorted(scored, key=lambda item: (-scored[item][0], item))
    # a neighbour's own category is not in the record: "" (the catalog may know it)
    chosen = [(item, scored[item][0] / top, scored[item][2].split(":", 1)[0],
               scored[item][2], "") for item in ranked if item != item_id]
    return chosen + from_lists(fallback, TOP_UP if chosen else "popular:no-similar-items")


def _blend(scored: dict[str, tuple[float, float, str]], item: str, share: float,
           reason: str) -> None:
    """Adds one source's share to an item's score; the larger share names the reason (a
    source without weight adds nothing, nor the item)."""
    if share <= 0:
        return
    score, best, why = scored.get(item, (0.0, -1.0, reason))
    scored[item] = (score + share, share, reason) if share > best else (score + share, best, why)


def personalised(candidates: list[PoolItem], preferences: Mapping[str, float],
                 categories_of: Callable[[PoolItem], Collection[str]]) -> list[PoolItem]:
    """A placement's own candidates re-ranked for a user: each score times 1 + her preference
    for the item's categories (``preferences``: casefolded, 0..1); the fallback's items keep
    their place after them.

    >>> pool = [("a", 1.0, "cooccur", "r", "hats"), ("b", 0.8, "cooccur", "r", "shoes"),
    ...         ("c", 1.0, "popular", "popular:top-up", "")]
    >>> [i[0] for i in personalised(pool, {"shoes": 0.9}, lambda c: {c[4]})]
    ['b', 'a', 'c']
    """
    if not preferences:
        return candidates
    split = next((n for n, c in enumerate(candidates) if c[3].startswith("popular:")),
                 len(candidates))

    def boosted(candidate: PoolItem) -> float:
        liked = max((preferences.get(c, 0.0) for c in categories_of(candidate)), default=0.0)
        return candidate[1] * (1.0 + liked)

    own = sorted(((boosted(c), c) for c in candidates[:split]), key=lambda p: (-p[0], p[1][0]))
    return [(c[0], score, c[2], c[3], c[4]) for score, c in own] + candidates[split:]


def complementary_items(basket: Sequence[str],
                        features_of: Callable[[str], pb.ItemFeatures | None],
                        facts_of: Callable[[str], Facts | None],
                        fallback: Sequence[pb.RecommendationList]) -> Iterator[PoolItem]:
    """The candidates for a cart holding ``basket``, lazily (the substitute check reads each
    candidate's records; the selection stops once its answer is full): what was bought with
    its items, each
    basket item's partners scored relative to its strongest, summed over the basket.

    >>> from reco.v1 import recommendations_pb2 as pb
    >>> shoe = pb.ItemFeatures(item_id="shoe", category="shoes", bought_with=[
    ...     pb.ItemAffinity(item_id="sock", affinity=3),
    ...     pb.ItemAffinity(item_id="boot", affinity=1)])
    >>> facts = {"shoe": Facts(("Shoes",), price=80.0), "boot": Facts(("Shoes",), price=90.0)}
    >>> [(i[0], i[3]) for i in complementary_items(["shoe"], {"shoe": shoe}.get, facts.get, [])]
    [('sock', 'bought-with:shoe')]
    """
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}  # item -> (its largest share, from which item)
    for held in dict.fromkeys(basket):
        features = features_of(held)
        if features is None or not features.bought_with:
            continue
        strongest = max(o.affinity for o in features.bought_with) or 1.0
        for other in features.bought_with:
            share = other.affinity / strongest
            scores[other.item_id] = scores.get(other.item_id, 0.0) + share
            if share > best.get(other.item_id, (0.0, ""))[0]:
                best[other.item_id] = (share, held)
    top = max(scores.values(), default=1.0)
    ranked = sorted(scores, key=lambda item: (-scores[item], item))
    chosen = [(item, scores[item] / top, "bought_with", f"bought-with:{best[item][1]}", "")
              for item in ranked]
    candidates = chosen + from_lists(fallback, TOP_UP if chosen else "popular:no-basket-items")
    basket_items = [(facts_of(item), _category(features_of(item))) for item in basket]
    in_basket = set(basket)
    for candidate in candidates:
        if candidate[0] in in_basket:
            continue
        facts = facts_of(candidate[0])
        category = "" if facts is not None and facts.category_path else \
            candidate[4] or _category(features_of(candidate[0]))
        if not any(substitutes(facts, category, known, theirs)
                   for known, theirs in basket_items):
            yield candidate


def _category(features: pb.ItemFeatures | None) -> str:
    known = features is not None and features.category != UNKNOWN_CATEGORY
    return features.category if known and features is not None else ""


def substitutes(facts: Facts | None, category: str, other: Facts | None,
                other_category: str) -> bool:
    """Whether two items are close substitutes: the same most specific category (the
    catalog's, else their events'), and known prices within ``SUBSTITUTE_PRICE_RATIO`` of each
    other (without both prices, nothing says they are alike enough to replace each other)."""
    mine = leaf_category(facts, category)
    if not mine or mine != leaf_category(other, other_category):
        return False
    mine_price = facts.price if facts is not None else None
    their_price = other.price if other is not None else None
    if mine_price is None or their_price is None or min(mine_price, their_price) <= 0:
        return False
    return max(mine_price, their_price) / min(mine_price, their_price) <= SUBSTITUTE_PRICE_RATIO


def popular_items(wanted: Sequence[pb.RecommendationList],
                  fallback: Sequence[pb.RecommendationList]) -> list[PoolItem]:
    """The items of the list asked for (none when it does not exist), in its order, then of
    the fallback, saying so in their reason."""
    return from_lists(wanted, "") + from_lists(fallback, TOP_UP)


def from_lists(lists: Sequence[pb.RecommendationList], reason: str) -> list[PoolItem]:
    """The lists' items in order; with ``reason``, a top-up, which says so in place of the
    items' own reasons and sources."""
    return [(i.item_id, i.score, "popular" if reason else i.source or "popular",
             reason or i.reason, i.category)
            for listing in lists for i in listing.items]
