"""Implicit-feedback ALS (Hu, Koren and Volinsky), in numpy and scipy.sparse.

An interaction of weight ``r`` means preference 1 with confidence ``1 + alpha * r``. Training
alternates ridge solves for all user factors and all item factors (L2 ``regularization``), and
stops early when the hit rate on a validation split stops improving. ``fold_in`` solves one
user's factors against the fixed item factors: what the stream job does per event, and exactly
what training does for that user in its last step.

>>> users = [f"u{u}" for u in range(40) for _ in range(5)]
>>> items = [f"i{(u % 4) * 5 + k}" for u in range(40) for k in range(5)]
>>> model = ImplicitALS(factors=4, iterations=8, seed=1).fit(users, items, [1.0] * len(users))
>>> sorted(item for item, _ in model.recommend(model.fold_in({"i0": 1.0, "i1": 1.0}), n=3,
...                                            exclude={"i0", "i1"}))
['i2', 'i3', 'i4']
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from scipy import sparse

from online_models.factors import ItemFactors


class ImplicitALS:
    def __init__(self, factors: int = 32, regularization: float = 0.1, alpha: float = 10.0,
                 iterations: int = 15, patience: int = 2, seed: int = 0) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.patience = patience
        self.seed = seed
        self.user_ids: list[str] = []
        self.item_ids: list[str] = []
        self.user_factors = np.zeros((0, factors))
        self.item_factors = np.zeros((0, factors))
        self.history: list[float] = []
        self._item_model: ItemFactors | None = None

    def _solve(self, fixed: np.ndarray, rows: sparse.csr_matrix) -> np.ndarray:
        """For each row r: (F^T C_r F + lambda I)^-1 F^T C_r p_r, with F the fixed factors."""
        gram = fixed.T @ fixed + self.regularization * np.eye(self.factors)
        out = np.zeros((rows.shape[0], self.factors))
        for r in range(rows.shape[0]):
            start, end = rows.indptr[r], rows.indptr[r + 1]
            cols, weights = rows.indices[start:end], rows.data[start:end]
            if len(cols) == 0:
                continue
            f = fixed[cols]
            confidence = self.alpha * weights  # C - I on the observed entries
            a = gram + (f.T * confidence) @ f
            b = (f.T * (1.0 + confidence)).sum(axis=1)
            out[r] = np.linalg.solve(a, b)
        return out

    def fit(self, users: Sequence[str], items: Sequence[str], weights: Sequence[float],
            validation: Sequence[tuple[str, str]] = ()) -> ImplicitALS:
        values = np.asarray(weights, dtype=float)
        if len(values) and not (np.isfinite(values).all() and (values >= 0).all()):
            raise ValueError("interaction weights must be finite and not negative")
        self.user_ids = sorted(set(users))
        self.item_ids = sorted(set(items))
        u_index = {u: n for n, u in enumerate(self.user_ids)}
        i_index = {i: n for n, i in enumerate(self.item_ids)}
        matrix = sparse.csr_matrix(
            (np.asarray(weights, dtype=float), ([u_index[u] for u in users],
                                                [i_index[i] for i in items])),
            shape=(len(self.user_ids), len(self.item_ids)))
        matrix.sum_duplicates()
        rng = np.random.default_rng(self.seed)
        self.item_factors = rng.normal(0, 0.1, (len(self.item_ids), self.factors))
        transposed = matrix.T.tocsr()
        best, best_items, stale = -1.0, self.item_factors, 0
        self.history = []
        for _ in range(self.iterations):
            self.user_factors = self._solve(self.item_factors, matrix)
            self.item_factors = self._solve(self.user_factors, transposed)
            if validation:
                score = self.hit_rate(matrix, u_index, i_index, validation)
                self.history.append(score)
                if score > best:
                    best, best_items, stale = score, self.item_factors, 0
                else:
                    stale += 1
                    if stale >= self.patience:
                        break
        if validation:
            self.item_factors = best_items
        self.user_factors = self._solve(self.item_factors, matrix)  # users match the items
        return self

    def hit_rate(self, matrix: sparse.csr_matrix, u_index: dict[str, int],
                 i_index: dict[str, int], pairs: Sequence[tuple[str, str]], k: int = 20) -> float:
        users = self._solve(self.item_factors, matrix)
        hits = total = 0
        for user, item in pairs:
            if user not in u_index or item not in i_index:
                continue
            u = u_index[user]
            scores = self.item_factors @ users[u]
            scores[matrix.indices[matrix.indptr[u]:matrix.indptr[u + 1]]] = -np.inf
            top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
            hits += i_index[item] in top
            total += 1
        return hits / total if total else 0.0

    def clone(self) -> ImplicitALS:
        """A fresh, untrained model with the same parameters."""
        return ImplicitALS(self.factors, self.regularization, self.alpha, self.iterations,
                           self.patience, self.seed)

    def item_model(self, version: str) -> ItemFactors:
        """The item side, as the stream job folds users into it (online_models/factors.py);
        kept until the next fit."""
        cached = self._item_model
        # float64 factors are taken as they are, so identity tells whether they changed
        if cached is None or cached.version != version or cached.factors is not self.item_factors:
            cached = self._item_model = ItemFactors(version, self.item_ids, self.item_factors,
                                                    self.regularization, self.alpha)
        return cached

    def fold_in(self, interactions: dict[str, float]) -> np.ndarray:
        """A user's factors from their weighted interactions, item factors held fixed: the
        stream job's fold-in."""
        user = self.item_model("").fold_in(interactions)
        return user if user is not None else np.zeros(self.factors)

    def recommend(self, user_vector: np.ndarray, n: int,
                  exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        """Top ``n`` items by inner product, leaving out ``exclude``."""
        return self.item_model("").top_n(user_vector, n, exclude)
