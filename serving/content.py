"""The server's content model (online_models/content.py) over its copy of the catalog, kept by
the loader: each catalog record is indexed, its most similar items are stored with it
(``CONTENT``), and it joins the stored lists of those items when it is more like them than
their weakest neighbour (similarity is symmetric), so a new item shows on the pages of items
like it from the moment it is in the catalog. A deleted item leaves the index; lists still
naming it are filtered at lookup, like any item that cannot be bought.

>>> import tempfile
>>> from serving.store import Store
>>> store = Store(tempfile.mkdtemp() + "/db")
>>> index = ContentIndex(store, n=3)
>>> for item_id, title in [("a", "Trail running shoe"), ("b", "Wool hat"),
...                        ("c", "Road running shoe")]:
...     index.update(item_id, Item(item_id=item_id, title=title).SerializeToString())
>>> store.apply(index.flush(), {})
>>> [(o.item_id) for o in index.neighbours("a")], [o.item_id for o in index.neighbours("c")]
(['c'], ['a'])
>>> store.close()
"""

from __future__ import annotations

from typing import Any

from online_models.content import ContentSimilarity
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import Item
from serving.store import CATALOG, CONTENT, Change, Store


def content_record(item: Item) -> dict[str, Any]:
    return {"item_id": item.item_id, "title": item.title, "description": item.description,
            "category_path": list(item.category_path), "brand": item.brand,
            "price": item.price if item.price > 0 else None}


class ContentIndex:
    def __init__(self, store: Store, n: int = 20) -> None:
        self.store = store
        self.n = n
        self.model = ContentSimilarity(n=n)
        for item_id, raw in store.values(CATALOG):
            self.model.learn_one(content_record(_item(item_id, raw)))
        self._pending: dict[str, list[tuple[str, float]] | None] = {}

    def neighbours(self, item_id: str) -> list[pb.ItemAffinity]:
        """The stored list of ``item_id`` (what requests read)."""
        raw = self.store.get(CONTENT, item_id)
        return list(pb.ContentNeighbours.FromString(raw).items) if raw is not None else []

    def update(self, item_id: str, raw: bytes | None) -> None:
        """Learns one catalog record (None: the item was deleted)."""
        if raw is None:
            self.model.forget_one(item_id)
            self._pending[item_id] = None
            return
        self.model.learn_one(content_record(_item(item_id, raw)))
        found = self.model.predict_one({"item_id": item_id})
        self._pending[item_id] = found
        for other, similarity in found:
            current = self._current(other)
            if current is None:
                continue
            kept = [(i, s) for i, s in current if i != item_id]
            if len(kept) < self.n or similarity > kept[-1][1]:
                kept.append((item_id, similarity))
                kept.sort(key=lambda pair: (-pair[1], pair[0]))
                self._pending[other] = kept[:self.n]

    def flush(self) -> list[Change]:
        """The store changes of the records learned since the last flush."""
        changes = [Change(CONTENT, item, None if found is None else pb.ContentNeighbours(
            item_id=item, items=[pb.ItemAffinity(item_id=i, affinity=s) for i, s in found]
        ).SerializeToString()) for item, found in self._pending.items()]
        self._pending.clear()
        return changes

    def _current(self, item_id: str) -> list[tuple[str, float]] | None:
        if item_id in self._pending:
            return self._pending[item_id]
        return [(o.item_id, o.affinity) for o in self.neighbours(item_id)]


def _item(item_id: str, raw: bytes) -> Item:
    item = Item.FromString(raw)
    item.item_id = item_id  # the key names the item, whatever the record says
    return item
