"""The item side of the factorisation, as the stream job uses it: item factors from the last
mini-batch training (online_models/als.py), with the index and Gram matrix precomputed so a
user's fold-in per event is one small solve (``factors x factors``) over the user's own items,
and top-N is one matrix-vector product.

They travel from the trainer to the job as chunks on the compacted ``item_factors`` topic
(Kafka's default record limit is 1 MB); the job assembles a version once all its chunks are in
and swaps it in whole.

>>> from online_models.als import ImplicitALS
>>> users = [f"u{u}" for u in range(40) for _ in range(5)]
>>> items = [f"i{(u % 4) * 5 + k}" for u in range(40) for k in range(5)]
>>> als = ImplicitALS(factors=4, iterations=8, seed=1).fit(users, items, [1.0] * len(users))
>>> model = als.item_model(version="v1")
>>> chunks = model.to_chunks(chunk_items=7, trained_at_ms=0)
>>> len(chunks), ItemFactors.from_chunks(chunks).item_ids == model.item_ids
(3, True)
>>> assembler = FactorChunks()
>>> [assembler.add(c) is not None for c in chunks]
[False, False, True]
>>> sorted(i for i, _ in model.top_n(model.fold_in({"i0": 1.0, "i1": 1.0}), 3, {"i0", "i1"}))
['i2', 'i3', 'i4']
>>> sorted(i for i, _ in model.similar("i0", 4))  # the items users of i0 also had
['i1', 'i2', 'i3', 'i4']
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from reco.v1 import recommendations_pb2 as pb


class ItemFactors:
    def __init__(self, version: str, item_ids: Sequence[str], factors: np.ndarray,
                 regularization: float, alpha: float) -> None:
        self.version = version
        self.item_ids = list(item_ids)
        self.factors = np.asarray(factors, dtype=np.float64)
        self.regularization = regularization
        self.alpha = alpha
        self.index = {item: n for n, item in enumerate(self.item_ids)}
        k = self.factors.shape[1]
        self.gram = self.factors.T @ self.factors + regularization * np.eye(k)
        self._unit: np.ndarray | None = None  # rows scaled to length 1, made on first use

    def fold_in(self, interactions: dict[str, float]) -> np.ndarray | None:
        """The user's factors from their weighted interactions (items unknown to this version
        are ignored), exactly as training solves a user; None when no item is known."""
        if not all(math.isfinite(w) and w >= 0 for w in interactions.values()):
            raise ValueError("interaction weights must be finite and not negative")
        known = [(self.index[i], w) for i, w in interactions.items() if i in self.index]
        if not known:
            return None
        rows = self.factors[[n for n, _ in known]]
        confidence = self.alpha * np.array([w for _, w in known])
        a = self.gram + (rows.T * confidence) @ rows
        b = (rows.T * (1.0 + confidence)).sum(axis=1)
        return np.linalg.solve(a, b)

    def top_n(self, user: np.ndarray, n: int, exclude: Collection[str] = ()
              ) -> list[tuple[str, float]]:
        """The ``n`` best items by inner product, leaving out ``exclude``."""
        scores = self.factors @ user
        want = min(len(scores), n + len(exclude))
        if want <= 0:
            return []
        best = np.argpartition(-scores, want - 1)[:want]
        out = []
        for j in best[np.argsort(-scores[best])]:
            item = self.item_ids[j]
            if item not in exclude:
                out.append((item, float(scores[j])))
                if len(out) == n:
                    break
        return out

    def similar(self, item_id: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` items whose factors point most nearly the way ``item_id``'s do (cosine,
        positive only), best first; [] for an item this version does not know."""
        row = self.index.get(item_id)
        if row is None or n <= 0:
            return []
        if self._unit is None:
            norms = np.linalg.norm(self.factors, axis=1, keepdims=True)
            self._unit = self.factors / np.where(norms > 0, norms, 1.0)
        cosines = self._unit @ self._unit[row]
        cosines[row] = -np.inf
        want = min(n, len(cosines) - 1)
        if want <= 0:
            return []
        best = np.argpartition(-cosines, want - 1)[:want]
        return [(self.item_ids[j], float(cosines[j])) for j in best[np.argsort(-cosines[best])]
                if cosines[j] > 0]

    def to_chunks(self, chunk_items: int, trained_at_ms: int) -> list[pb.ItemFactorsChunk]:
        total = max(1, -(-len(self.item_ids) // chunk_items))
        return [pb.ItemFactorsChunk(
            version=self.version, chunk=c, chunks=total, dim=self.factors.shape[1],
            item_ids=self.item_ids[c * chunk_items:(c + 1) * chunk_items],
            factors=self.factors[c * chunk_items:(c + 1) * chunk_items]
            .astype("<f4").tobytes(),
            regularization=self.regularization, alpha=self.alpha,
            trained_at_ms=trained_at_ms) for c in range(total)]

    @classmethod
    def from_chunks(cls, chunks: Sequence[pb.ItemFactorsChunk]) -> ItemFactors:
        """One version from all its chunks (any order); ValueError if some are missing or
        they disagree (``version_problem``)."""
        if not chunks:
            raise ValueError("no chunks")
        first = chunks[0]
        mine = {c.chunk: c for c in chunks if c.version == first.version}
        if sorted(mine) != list(range(first.chunks)):
            raise ValueError(f"version {first.version}: {len(mine)} of {first.chunks} chunks")
        ordered = [mine[c] for c in range(first.chunks)]
        problem = version_problem(ordered)
        if problem:
            raise ValueError(problem)
        ids = [i for c in ordered for i in c.item_ids]
        matrix = np.concatenate([np.frombuffer(c.factors, dtype="<f4").reshape(-1, first.dim)
                                 for c in ordered])
        return cls(first.version, ids, matrix, first.regularization, first.alpha)


def version_problem(chunks: Sequence[pb.ItemFactorsChunk]) -> str | None:
    """Why the chunks of one version cannot make one model (they disagree on the number of
    chunks, the dimension or the training parameters, or list an item twice), or None."""
    first = chunks[0]
    for chunk in chunks:
        for field in ("chunks", "dim", "regularization", "alpha", "trained_at_ms"):
            if getattr(chunk, field) != getattr(first, field):
                return (f"item factors version {first.version!r}: chunks {first.chunk} and "
                        f"{chunk.chunk} disagree on {field} ({getattr(first, field)} vs "
                        f"{getattr(chunk, field)}); the version is rejected whole")
        problem = chunk_problem(chunk)
        if problem:
            return problem
    ids = [i for c in chunks for i in c.item_ids]
    if len(set(ids)) != len(ids):
        return (f"item factors version {first.version!r}: an item is listed twice; the "
                "version is rejected whole")
    return None


class FactorChunks:
    """Collects chunks as they arrive; returns the newest version once all its chunks are in
    (an older version's late chunks are ignored). A version whose chunks disagree is
    rejected whole (``rejected`` says why) and the current model stays."""

    def __init__(self) -> None:
        self.version = ""
        self.trained_at_ms = -1
        self.chunks: dict[int, pb.ItemFactorsChunk] = {}
        self.rejected: str | None = None

    def add(self, chunk: pb.ItemFactorsChunk) -> ItemFactors | None:
        if chunk.trained_at_ms < self.trained_at_ms:
            return None
        if chunk.version != self.version:
            self.version, self.trained_at_ms, self.chunks = (chunk.version,
                                                             chunk.trained_at_ms, {})
        self.chunks[chunk.chunk] = chunk
        if len(self.chunks) < max(c.chunks for c in self.chunks.values()):
            return None
        ordered = sorted(self.chunks.values(), key=lambda c: c.chunk)
        self.chunks = {}
        self.rejected = version_problem(ordered)
        if self.rejected or [c.chunk for c in ordered] != list(range(ordered[0].chunks)):
            self.rejected = self.rejected or (f"item factors version {chunk.version!r}: "
                                              "chunk numbers do not run 0..chunks-1")
            return None
        return ItemFactors.from_chunks(ordered)


def chunk_problem(chunk: pb.ItemFactorsChunk) -> str | None:
    """Why a chunk cannot be used, or None."""
    if not chunk.version or chunk.dim <= 0 or not 0 <= chunk.chunk < chunk.chunks:
        return "item factors chunk: needs a version, dim > 0 and 0 <= chunk < chunks"
    if len(chunk.factors) != 4 * chunk.dim * len(chunk.item_ids):
        return (f"item factors chunk: {len(chunk.factors)} bytes of factors for "
                f"{len(chunk.item_ids)} items x {chunk.dim} float32")
    return None
