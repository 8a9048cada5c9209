"""Content similarity of catalog items: what a new item is like before anyone has touched it.

Each item is a sparse vector of its title and description words (River's ``BagOfWords``
tokeniser, sublinear term frequency), every level of its category path, its brand and its price
band, weighted by inverse document frequency over the catalog as it is when asked; the
similarity of two items is the cosine of their vectors. ``learn_one`` indexes a catalog record
(replacing the item's previous one), ``forget_one`` drops a deleted item, ``predict_one`` gives
an item's most similar items. A query looks at the ``scan`` items that most recently got each
of its tokens, and an item's norm is recomputed only when the catalog has grown by a tenth
since (the IDF moves with the catalog): a query costs O(tokens x scan) whatever the catalog's
size.

>>> model = ContentSimilarity(n=2, seed=0)
>>> for item_id, title, path, price in [("a", "Trail running shoe", ["Shoes"], 90.0),
...                                      ("b", "Road running shoe", ["Shoes"], 80.0),
...                                      ("c", "Wool winter hat", ["Hats"], 20.0)]:
...     model.learn_one({"item_id": item_id, "title": title, "category_path": path,
...                      "price": price})
>>> [(item, round(score, 2)) for item, score in model.predict_one({"item_id": "a"})]
[('b', 0.8)]
>>> model.predict_one({"item_id": "new", "title": "Wool hat", "category_path": ["Hats"]})[0][0]
'c'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from river.feature_extraction import BagOfWords

from reco.catalog import price_band

WORD_WEIGHT, CATEGORY_WEIGHT, BRAND_WEIGHT, PRICE_WEIGHT = 1.0, 2.0, 1.5, 1.0


class ContentSimilarity:
    def __init__(self, n: int = 20, scan: int = 300, seed: int = 0) -> None:
        self.n = n
        self.scan = scan
        self.seed = seed  # the model is deterministic; kept for the models' common contract
        self.bag = BagOfWords(lowercase=True, strip_accents=True)
        self.vectors: dict[str, dict[str, float]] = {}
        self.norms: dict[str, tuple[float, int]] = {}  # item -> (norm, catalog size then)
        # token -> the items holding it, in the order they got it (a dict: ordered, O(1) removal)
        self.postings: dict[str, dict[str, None]] = {}

    def __len__(self) -> int:
        return len(self.vectors)

    def features(self, x: Mapping[str, Any]) -> dict[str, float]:
        """The raw (not yet IDF-weighted) vector of a catalog record given as a dict with any
        of title, description, category_path, brand, price."""
        text = f"{x.get('title') or ''} {x.get('description') or ''}"
        vector = {f"w:{word}": WORD_WEIGHT * (1.0 + math.log(count))
                  for word, count in self.bag.transform_one(text).items()}
        for level in x.get("category_path") or ():
            if level:
                vector[f"c:{level.casefold()}"] = CATEGORY_WEIGHT
        if x.get("brand"):
            vector[f"b:{str(x['brand']).casefold()}"] = BRAND_WEIGHT
        price = x.get("price")
        if price is not None and not math.isfinite(price):
            raise ValueError(f"price {price!r} is not a finite number")
        band = price_band(price)
        if band:
            vector[f"p:{band}"] = PRICE_WEIGHT
        return vector

    def learn_one(self, x: Mapping[str, Any]) -> None:
        item = str(x["item_id"])
        vector = self.features(x)
        self.forget_one(item)
        self.vectors[item] = vector
        for token in vector:
            self.postings.setdefault(token, {})[item] = None
        self._norm_of(item)

    def forget_one(self, item: str) -> None:
        self.norms.pop(item, None)
        for token in self.vectors.pop(item, {}):
            holders = self.postings.get(token)
            if holders is not None:
                holders.pop(item, None)
                if not holders:
                    del self.postings[token]

    def predict_one(self, x: Mapping[str, Any]) -> list[tuple[str, float]]:
        """The ``n`` items most similar to ``x`` (an indexed item's id is enough), most similar
        first, with their cosine similarity (0..1)."""
        item = str(x.get("item_id", ""))
        raw = self.vectors.get(item) if len(x) <= 1 else None
        query = self._weighted(raw if raw is not None else self.features(x))
        norm = _norm(query.values())
        if norm == 0:
            return []
        scores: dict[str, float] = {}
        for token, weight in query.items():
            holders = self.postings.get(token, {})
            idf = self._idf(token)
            for other in islice(reversed(holders), self.scan):
                if other != item:
                    scores[other] = scores.get(other, 0.0) + \
                        weight * self.vectors[other][token] * idf
        ranked = sorted(((-score / (norm * self._norm_of(other)), other)
                         for other, score in scores.items() if score > 0))
        return [(other, min(1.0, -negative)) for negative, other in ranked[:self.n]]

    def _idf(self, token: str) -> float:
        return math.log((1 + len(self.vectors)) / (1 + len(self.postings.get(token, ())))) + 1

    def _norm_of(self, item: str) -> float:
        norm, size = self.norms.get(item, (0.0, 0))
        if len(self.vectors) > 1.1 * size:
            norm = _norm(self._weighted(self.vectors[item]).values()) or 1.0
            self.norms[item] = (norm, len(self.vectors))
        return norm

    def _weighted(self, vector: Mapping[str, float]) -> dict[str, float]:
        return {token: weight * self._idf(token) for token, weight in vector.items()}


def _norm(values: Iterable[float]) -> float:
    return math.sqrt(sum(v * v for v in values))
