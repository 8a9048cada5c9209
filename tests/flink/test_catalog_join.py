"""The catalog in the pipeline on a Flink MiniCluster: catalog records joined with the item
signals in the per-item operator."""

from __future__ import annotations

import json

import pytest

from reco.v1 import recommendations_pb2 as pb
from tests.flink.harness import ALLOW, PAUSE, T0, ev, last_by_key, run_pipeline

pytestmark = pytest.mark.flink


def test_the_catalog_joins_the_item_signals_and_lists_new_items_before_any_event(tmp_path):
    """Catalog records (the items topic) reach the per-item operator: the catalog's category
    and price win over the events', an item the catalog lists before any event joins its
    category's newest items, and a record that is not an Item is dead-lettered."""
    from reco.config import Settings
    from reco.v1.catalog_pb2 import Item

    settings = Settings(job_parallelism=2, restart_attempts=0, top_emit_interval_ms=0,
                        consent_default=ALLOW,
                        trending_emit_ratio=1.0, profile_min_interval_ms=0,
                        checkpoint_dir=str(tmp_path / "ck"), stack_dir=str(tmp_path / "flink"))
    boot = Item(item_id="boot-c", category_path=["Gear", "Boots"], price=70.0, created_ms=T0)
    fresh = Item(item_id="fresh-c", category_path=["Gear", "Boots"], price=80.0,
                 created_ms=T0 + 5)
    records: list = [(boot.SerializeToString(), "items"), (fresh.SerializeToString(), "items"),
                     (b"\xff\x01not an item", "items"), PAUSE]
    records += [ev(n, f"c{n}", "purchase", "boot-c", "shoes", price=9.0).to_json()
                for n in range(3)]
    out = run_pipeline(records, settings)
    items = last_by_key(out["item_features"], pb.ItemFeatures)
    assert items["boot-c"].category == "Boots" and items["boot-c"].price_band == 7  # 64-128
    lists = last_by_key(out["popular_lists"], pb.RecommendationList)
    assert {"fresh-c", "boot-c"} <= {i.item_id for i in lists["new/Boots"].items}
    assert "boot-c" in {i.item_id for i in lists["category/Boots"].items}
    [letter] = [json.loads(d) for d in out["dead_letters"]]
    assert letter["topic"] == "items" and "not a reco.v1.Item" in letter["reason"]
