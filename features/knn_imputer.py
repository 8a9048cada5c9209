"""k-nearest-neighbour imputation of a missing value from similar users (seed 2a): the mean
value of the ``k`` most similar of the last ``window`` observations, similarity being the
Euclidean distance of sparse feature dicts (a missing key is 0). With no observation yet it
has no answer (None), and the caller falls back on the population's mean.

>>> imputer = KNNImputer(k=2, seed=0)
>>> for device, dwell in [("mobile", 4.0), ("mobile", 6.0), ("desktop", 20.0)]:
...     imputer.learn_one({f"device:{device}": 1.0}, dwell)
>>> imputer.predict_one({"device:mobile": 1.0})
5.0
>>> KNNImputer().predict_one({"device:tv": 1.0}) is None
True
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping


class KNNImputer:
    def __init__(self, k: int = 10, window: int = 1_000, seed: int = 0) -> None:
        self.k = k
        self.seed = seed  # deterministic; kept for the models' common contract
        self.samples: deque[tuple[dict[str, float], float]] = deque(maxlen=window)

    def learn_one(self, x: Mapping[str, float], y: float) -> None:
        """Keeps one observed value with the features of whom it was observed."""
        if not math.isfinite(y) or not all(math.isfinite(v) for v in x.values()):
            raise ValueError("KNNImputer learns finite values only")
        self.samples.append((dict(x), float(y)))

    def predict_one(self, x: Mapping[str, float]) -> float | None:
        """The mean value of the ``k`` nearest observations (ties: the most recent first)."""
        if not self.samples:
            return None
        nearest = sorted((_distance(x, seen), -n, y)
                         for n, (seen, y) in enumerate(self.samples))[:self.k]
        return sum(y for _, _, y in nearest) / len(nearest)


def _distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    keys = a.keys() | b.keys()
    return math.sqrt(sum((a.get(key, 0.0) - b.get(key, 0.0)) ** 2 for key in keys))
