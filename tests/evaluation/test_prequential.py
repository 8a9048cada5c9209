"""The prequential harness end to end on simulated shoppers written as a generic CSV."""

from __future__ import annotations

import csv
import json

from evaluation import report
from evaluation.prequential import main as evaluate
from reco.simulator import ShopperSimulation, SimConfig


def test_a_replay_scores_every_method_and_writes_the_report(tmp_path, monkeypatch):
    path = tmp_path / "shop.csv"
    sim = ShopperSimulation(SimConfig(n_users=150, n_items=300, seed=3, bot_share=0.0))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "user_id", "item_id", "event_type", "category", "price"])
        for event in sim.events():
            if event.item_id:
                writer.writerow([event.ts, event.user_id, event.item_id, event.event_type,
                                 event.category or "", event.price or ""])
    monkeypatch.setattr(report, "REPORTS", tmp_path / "reports")
    assert evaluate(["--dataset", "csv", str(path), "--name", "sim"]) == 0
    folder = tmp_path / "reports" / "sim"
    result = json.loads((folder / "report.json").read_text())
    summary = result["summary"]
    assert set(summary) == {"reco-stream (this system)", "user's recent items",
                            "co-occurrence (last 20)", "most popular", "recent trending",
                            "batch ALS (daily)"}
    for name, s in summary.items():
        assert s["all"]["targets"] == result["targets"] > 0, name
        assert 0 <= s["all"]["hr@5"] <= s["all"]["hr@10"] <= s["all"]["hr@20"] <= 1, name
        assert 0 <= s["coverage"] <= 1 and 0 <= s["gini"] <= 1, name
    # simulated shoppers cart what they viewed: a user's own items beat global popularity
    assert summary["reco-stream (this system)"]["all"]["hr@20"] > \
        summary["most popular"]["all"]["hr@20"]
    assert (folder / "report.md").read_text().count("|") > 20
    assert (folder / "report.png").exists()
