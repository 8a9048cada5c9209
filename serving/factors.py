"""The item factors at the server, for the product page's factor neighbours: the loader keeps
the chunks of the compacted ``item_factors`` topic in the store (``FACTORS``) and marks each
arrival (``FACTORS_SEEN``, small enough for a secondary to watch); the directory assembles the
newest complete version from the stored chunks when the mark moves, so a restart or a new
replica finds the factors without waiting for a retraining. Neighbours are computed per item
on first request (one matrix-vector product) and kept until the next version.

>>> import tempfile
>>> import numpy as np
>>> from online_models.factors import ItemFactors
>>> from serving.store import Change, Store
>>> store = Store(tempfile.mkdtemp() + "/db")
>>> model = ItemFactors("v1", ["a", "b", "c"], np.array([[1.0, 0], [0.9, 0.1], [0, 1]]), 0.1, 1)
>>> for chunk in model.to_chunks(chunk_items=2, trained_at_ms=5):
...     store.apply(factor_changes(f"chunk-{chunk.chunk}", chunk.SerializeToString()), {})
>>> directory = FactorDirectory(store, n=2)
>>> [(item, round(cosine, 2)) for item, cosine in directory.similar("a")]
[('b', 0.99)]
>>> directory.version, directory.similar("unknown")
('v1', [])
>>> store.close()
"""

from __future__ import annotations

import logging
from collections import defaultdict

from google.protobuf.message import DecodeError

from online_models.factors import ItemFactors, version_problem
from reco.v1 import recommendations_pb2 as pb
from serving.store import FACTORS, FACTORS_SEEN, Change, Store

log = logging.getLogger("reco.factors")
SIMILAR_CACHE = 50_000  # items whose factor neighbours are kept


def factor_changes(key: str, record: bytes | None) -> list[Change]:
    """The store changes for one record of the ``item_factors`` topic: the chunk (None
    deletes it) and the mark the directory watches."""
    return [Change(FACTORS, key, record),
            Change(FACTORS_SEEN, "last", f"{key}:{len(record or b'')}".encode())]


class FactorDirectory:
    def __init__(self, store: Store, n: int = 20) -> None:
        self.store = store
        self.n = n
        self.model: ItemFactors | None = None
        self.version = ""
        self._loaded = -1
        self._similar: dict[str, list[tuple[str, float]]] = {}

    def similar(self, item_id: str) -> list[tuple[str, float]]:
        """The ``n`` items nearest ``item_id`` in the newest complete version ([] without
        one, or for an item it does not know)."""
        self._refresh()
        if self.model is None:
            return []
        found = self._similar.get(item_id)
        if found is None:
            if len(self._similar) >= SIMILAR_CACHE:
                self._similar.clear()
            found = self._similar[item_id] = self.model.similar(item_id, self.n)
        return found

    def _refresh(self) -> None:
        current = self.store.versions.get(FACTORS_SEEN, 0)
        if current == self._loaded:
            return
        self._loaded = current
        newest = newest_complete(self.store.values(FACTORS))
        if newest is not None and newest[0].version != self.version:
            self.model = ItemFactors.from_chunks(newest)
            self.version = self.model.version
            self._similar.clear()
            log.info("item factors version %s: %d items", self.version,
                     len(self.model.item_ids))


def newest_complete(records: list[tuple[str, bytes]]) -> list[pb.ItemFactorsChunk] | None:
    """The chunks of the most recently trained version that has all its chunks and whose
    chunks agree (``version_problem``), or None. A compacted topic keeps an older version's
    chunks beyond the newer one's count, and a retraining's chunks arrive one by one."""
    versions: defaultdict[str, dict[int, pb.ItemFactorsChunk]] = defaultdict(dict)
    for key, raw in records:
        try:
            chunk = pb.ItemFactorsChunk.FromString(raw)
        except DecodeError:
            log.warning("item factors: the record at key %r is not an ItemFactorsChunk", key)
            continue
        versions[chunk.version][chunk.chunk] = chunk
    complete = []
    for version, chunks in versions.items():
        ordered = [chunks[c] for c in sorted(chunks)]
        if [c.chunk for c in ordered] != list(range(ordered[0].chunks)):
            continue
        problem = version_problem(ordered)
        if problem:
            log.warning("%s", problem)
            continue
        complete.append((ordered[0].trained_at_ms, version, ordered))
    return max(complete, key=lambda found: found[:2])[2] if complete else None
