"""The server's factor neighbours: which stored version it assembles, and how the product page
blends them (pure code: a real rocksdict store, no Kafka)."""

from __future__ import annotations

import numpy as np

from online_models.factors import ItemFactors
from reco.v1 import recommendations_pb2 as pb
from serving.factors import FactorDirectory, factor_changes, newest_complete
from serving.store import Store
from userstep.placements import similar_items


def records(model: ItemFactors, trained_at_ms: int, chunk_items: int = 1
            ) -> list[tuple[str, bytes]]:
    return [(f"chunk-{c.chunk}", c.SerializeToString())
            for c in model.to_chunks(chunk_items, trained_at_ms)]


def model(version: str, ids: list[str]) -> ItemFactors:
    return ItemFactors(version, ids, np.eye(len(ids))[:, :2] + 0.1, 0.1, 1.0)


def test_the_newest_complete_version_wins_and_a_partial_one_waits():
    old = records(model("old", ["a", "b", "c"]), trained_at_ms=1)
    new = records(model("new", ["a", "b"]), trained_at_ms=2)
    # the compacted topic: the new version's two chunks overwrote the old's first two
    found = newest_complete(new + old[2:])
    assert found is not None and found[0].version == "new"
    # the new version's second chunk has not arrived: the old one is still whole elsewhere
    assert newest_complete(new[:1] + old[1:]) is None
    assert newest_complete(old)[0].version == "old"  # type: ignore[index]


def test_a_version_whose_chunks_disagree_is_skipped():
    bad = records(model("bad", ["a", "b"]), trained_at_ms=5)
    chunk = pb.ItemFactorsChunk.FromString(bad[1][1])
    chunk.alpha = 99.0
    good = records(model("good", ["x"]), trained_at_ms=1)
    found = newest_complete([bad[0], ("chunk-1", chunk.SerializeToString()), ("g", good[0][1]),
                             ("junk", b"\xff\xff")])
    assert found is not None and found[0].version == "good"


def test_the_directory_follows_new_versions(tmp_path):
    store = Store(tmp_path / "db")
    directory = FactorDirectory(store, n=5)
    assert directory.similar("a") == []
    first = ItemFactors("v1", ["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1.0]]), 0.1, 1)
    for key, raw in records(first, 1, chunk_items=2):
        store.apply(factor_changes(key, raw), {})
    assert [item for item, _ in directory.similar("a")] == ["b"]
    second = ItemFactors("v2", ["a", "b", "c"], np.array([[1, 0], [0, 1.0], [1, 0.1]]), 0.1, 1)
    for key, raw in records(second, 2, chunk_items=2):
        store.apply(factor_changes(key, raw), {})
    assert [item for item, _ in directory.similar("a")] == ["c"]
    assert directory.version == "v2"
    store.close()


def test_factor_neighbours_fill_a_page_without_co_occurrences_and_say_so():
    page = similar_items("a", None, [], lambda item: True, [], [("b", 0.9), ("c", 0.4)],
                         factor_evidence=0.2)
    assert [(item, reason) for item, _, _, reason, _ in page] == [
        ("b", "factors:similar-to=a"), ("c", "factors:similar-to=a")]
    without = similar_items("a", None, [], lambda item: True, [], [("b", 0.9)],
                            factor_evidence=0.0)
    assert [item for item, *_ in without] == []
