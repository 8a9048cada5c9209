"""Candidate mixes: the arms of the serving policy.

The job publishes each user's candidate pool: items from several sources, each scored 0..1
within its source. A mix weights the sources; the policy picks the mix per request (given the
context) and ``serve`` blends the pool with it (online_models/candidates.py), optionally
re-ranked for diversity. Sources:

- ``recent``: the user's own recent items (bought ones too unless ``relist_purchased`` is
  off), the likeliest to be revisited first (online_models/revisit.py); no other source scores
  them;
- ``cooccur``: items seen in the same sessions as the user's recent items;
- ``session``: the items of the sessions most like her latest one (V-SKNN,
  online_models/session_knn.py);
- ``content``: the catalog's items most like her recent ones (category path, brand, price
  band, words: online_models/content.py), new items included before anyone touched them;
- ``factors``: implicit ALS, the user folded into the latest item factors;
- ``category``: trending items of the user's preferred categories;
- ``new``: items first seen lately in those categories (exploration for new items);
- ``popular``: globally trending (the cold-start list, and the top-up).

>>> pool = [("a", 1.0, "recent", "recent", "shoes"), ("b", 1.0, "category",
...         "trending:category=bags", "bags"), ("c", 0.5, "popular", "popular", "")]
>>> [(item, source) for item, _, source, _, _ in serve(pool, "personal", exclude=(), k=2)]
[('a', 'recent'), ('b', 'category')]
>>> [item for item, *_ in serve(pool, "trending", exclude=("b",), k=3)]  # 0.3 each: by id
['a', 'c']
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from online_models.candidates import mmr

SOURCES = ("recent", "cooccur", "session", "content", "factors", "category", "new", "popular")
MIXES: dict[str, dict[str, float]] = {
    "personal": {"recent": 1.0, "cooccur": 0.4, "session": 0.4, "factors": 0.3,
                 "category": 0.25, "content": 0.1, "new": 0.05, "popular": 0.05},
    "similar": {"cooccur": 1.0, "session": 1.0, "factors": 0.9, "category": 0.7, "recent": 0.9,
                "content": 0.5, "new": 0.2, "popular": 0.1},
    "trending": {"category": 1.0, "popular": 0.6, "recent": 0.8, "cooccur": 0.3, "session": 0.1,
                 "factors": 0.3, "content": 0.1, "new": 0.2},
    "explore": {"new": 1.0, "category": 0.6, "popular": 0.5, "cooccur": 0.3, "session": 0.1,
                "factors": 0.3, "recent": 0.6, "content": 0.6},
}
# Every mix keeps the user's own recent items high: on real shop logs they are the strongest
# signal, and a mix that buries them costs every request the bandit explores it with
# (measured on the Taobao sample: HR@10 0.176 -> 0.189 on the first 20,000 events).
# ``personal`` goes further: the user's likeliest own items first (their scores fall linearly
# with the revisit ranker's rank, so the best other item comes after the first 60% of them).
# On the same pools, every target of both samples scored by every ordering, this beat weighing
# the other sources twice as much (HR@10 0.2364 -> 0.2395 on Taobao's carts and purchases,
# 0.4483 -> 0.4494 on YooChoose's next clicks), and the system's HR@20 on Taobao went from
# below the user's own 20 items (the best list there is) to level with them (README).
# ``session`` (V-SKNN's neighbours) at 0.4 in ``personal`` was chosen on the validation
# periods with the mix fixed: YooChoose HR@10 0.4494 (0.1) -> 0.4626 (0.4) -> 0.4702 (0.8),
# Taobao 0.2432, 0.2432, 0.2291 (docs/evaluation.md). ``content`` could not be chosen so: no
# public data set here has a catalog; it leads ``explore`` (with new items) and is a light
# touch elsewhere.
ARMS = tuple(MIXES)

# item id, score within its source (0..1), source, reason, category ("" when unknown)
PoolItem = tuple[str, float, str, str, str]


def own_items(pool: Sequence[PoolItem]) -> list[str]:
    """The user's own items in ``pool`` (the ``recent`` source), in the pool's order."""
    return [entry[0] for entry in pool if entry[2] == "recent"]


def serve(pool: Sequence[PoolItem], arm: str, exclude: Collection[str], k: int,
          diversity: float = 0.0) -> list[PoolItem]:
    """The ``k`` items of ``pool`` the mix ``arm`` ranks first (each item once, with the
    source that scored it best; the user's own items with theirs), re-ranked by MMR over
    categories when ``diversity`` > 0."""
    weights = MIXES[arm]
    # the revisit ranker has all the evidence on the user's own items (their co-occurrence is
    # mostly her own co-visits again): other sources do not score them
    own = set(own_items(pool))
    # pool scores are 0..1 within each source already: the mix only weighs them
    best: dict[str, tuple[float, PoolItem]] = {}
    for entry in pool:
        item = entry[0]
        if item in own and entry[2] != "recent":
            continue
        value = weights.get(entry[2], 0.0) * entry[1]
        if value > 0 and item not in exclude and (item not in best or value > best[item][0]):
            best[item] = (value, entry)
    # plain tuple order (item ids are unique, so entries are never compared) beats a key
    ranked = sorted((-value, item, entry) for item, (value, entry) in best.items())
    out = [(item, -negative, *entry[2:])
           for negative, item, entry in ranked[:k if diversity <= 0 else 3 * k]]
    if diversity > 0:
        categories = {item: category or item for item, _, _, _, category in out}
        chosen = mmr([(item, value, source) for item, value, source, _, _ in out], categories,
                     trade_off=1.0 - diversity, n=k)
        by_item = {entry[0]: entry for entry in out}
        out = [by_item[item] for item, _, _ in chosen]
    return out
