"""Which of a user's own items the user comes back to next: an online pairwise ranker.

On shop logs the user's own recent items are the strongest candidates (the README's Taobao
table), and how to order them is learned here instead of fixed: each event on an item the user
had touched before is a positive, and ``negatives`` of the user's other recent items, drawn at
random, are the items not chosen. The model is logistic on score differences (BPR-style
stochastic gradient steps); a score is linear in four features of the item in the user's
profile: how recent it is (a bucket of its rank, one weight per bucket), log1p of the user's
weighted interactions with it, whether it is in the cart, and whether it was bought. Bought
items are ranked like the others, so the data says whether they come back (repeat purchases in
a shop of consumables) or not. Starts ordered by recency alone.

Scores leave the model as relative likelihoods: ``exp(score - best)``, 1 for the most likely
item (the candidate pool scales every source to 0..1 within itself).

>>> ranker = RevisitRanker(seed=1)
>>> profile = {"a": revisit_features(0, 1.0, False, False),
...            "b": revisit_features(1, 3.0, True, False)}
>>> [item for item, _ in ranker.predict_one(profile)]  # by recency until it has learned
['a', 'b']
>>> for _ in range(50):  # this shop's users come back to what they put in the cart
...     ranker.learn_one(profile, "b")
>>> [(item, round(score, 2)) for item, score in ranker.predict_one(profile)]
[('b', 1.0), ('a', 0.13)]
>>> import pickle
>>> pickle.loads(pickle.dumps(ranker)).predict_one(profile) == ranker.predict_one(profile)
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence

# rank in the user's recent items -> bucket: the first few one by one, then coarser
_BUCKETS = (0, 1, 2, 3, 4, *(5,) * 5, *(6,) * 10)
BUCKETS = 8  # bucket 7: anything older
LOG_WEIGHT, IN_CART, BOUGHT = BUCKETS, BUCKETS + 1, BUCKETS + 2

# (recency bucket, log1p(weighted interactions), in cart, bought)
Features = tuple[int, float, float, float]


def revisit_features(rank: int, weight: float, in_cart: bool, bought: bool) -> Features:
    bucket = _BUCKETS[rank] if rank < len(_BUCKETS) else BUCKETS - 1
    return bucket, math.log1p(weight), float(in_cart), float(bought)


def profile_candidates(recent: Sequence[str], weights: Mapping[str, float],
                       cart: Collection[str], bought: Collection[str],
                       relist_bought: bool = True) -> dict[str, Features]:
    """The features of a user's recent items (newest first), as the profile keeps them."""
    out: dict[str, Features] = {}
    for rank, item in enumerate(recent):
        was_bought = item in bought
        if relist_bought or not was_bought:
            out[item] = revisit_features(rank, weights.get(item, 0.0), item in cart, was_bought)
    return out


class RevisitRanker:
    def __init__(self, learning_rate: float = 0.05, negatives: int = 3, seed: int = 0) -> None:
        self.learning_rate = learning_rate
        self.negatives = negatives
        self.seed = seed
        self.learned = 0
        # one weight per recency bucket, then LOG_WEIGHT, IN_CART, BOUGHT; the small slope
        # orders items by recency until the data says otherwise
        self.weights = [-0.01 * bucket for bucket in range(BUCKETS)] + [0.0, 0.0, 0.0]
        self._rng = random.Random(seed)

    def score(self, x: Features) -> float:
        w = self.weights
        return w[x[0]] + w[LOG_WEIGHT] * x[1] + w[IN_CART] * x[2] + w[BOUGHT] * x[3]

    def predict_one(self, x: Mapping[str, Features]) -> list[tuple[str, float]]:
        """The candidates ``x`` (item -> features), most likely next first, scored
        ``exp(score - best)``; ties keep the order of ``x``."""
        scored = sorted(((-self.score(f), rank, item) for rank, (item, f) in enumerate(x.items())))
        if not scored:
            return []
        best = -scored[0][0]
        return [(item, math.exp(-negative - best)) for negative, _, item in scored]

    def learn_one(self, x: Mapping[str, Features], y: str | None) -> None:
        """The user's next item was ``y``: if it is one of the candidates ``x``, it should
        outrank the others (a few of them, drawn at random)."""
        if not all(math.isfinite(v) for f in x.values() for v in f):
            raise ValueError("revisit features must be finite")
        chosen = x.get(y) if y is not None else None
        if chosen is None or len(x) < 2:
            return
        others = [f for item, f in x.items() if item != y]
        for other in self._rng.sample(others, min(self.negatives, len(others))):
            self._step(chosen, other)
        self.learned += 1

    def _step(self, chosen: Features, other: Features) -> None:
        margin = self.score(chosen) - self.score(other)
        # gradient of log(sigmoid(margin)), clipped so one step never overflows
        step = self.learning_rate / (1.0 + math.exp(min(margin, 30.0)))
        w = self.weights
        w[chosen[0]] += step
        w[other[0]] -= step
        w[LOG_WEIGHT] += step * (chosen[1] - other[1])
        w[IN_CART] += step * (chosen[2] - other[2])
        w[BOUGHT] += step * (chosen[3] - other[3])
