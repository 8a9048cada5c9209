"""The prequential harness end to end on simulated shoppers written as a generic CSV."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from evaluation import report
from evaluation.prequential import main as evaluate
from reco.simulator import ShopperSimulation, SimConfig


def write_shop(path):
    sim = ShopperSimulation(SimConfig(n_users=150, n_items=300, seed=3, bot_share=0.0))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "user_id", "item_id", "event_type", "category", "price"])
        for event in sim.events():
            if event.item_id:
                writer.writerow([event.ts, event.user_id, event.item_id, event.event_type,
                                 event.category or "", event.price or ""])


def test_a_replay_scores_every_method_and_writes_the_report(tmp_path, monkeypatch):
    path = tmp_path / "shop.csv"
    write_shop(path)
    monkeypatch.setattr(report, "REPORTS", tmp_path / "reports")
    assert evaluate(["--dataset", "csv", str(path), "--name", "sim"]) == 0
    folder = tmp_path / "reports" / "sim"
    result = json.loads((folder / "report.json").read_text())
    summary = result["summary"]
    assert set(summary) == {"reco-stream (this system)", "user's recent items",
                            "co-occurrence (last 20)", "recent items + co-occurrence",
                            "item-kNN (cosine)", "SKNN", "V-SKNN", "most popular",
                            "recent trending", "batch ALS (daily)"}
    for name, s in summary.items():
        assert s["all"]["targets"] == result["targets"] > 0, name
        assert 0 <= s["all"]["hr@5"] <= s["all"]["hr@10"] <= s["all"]["hr@20"] <= 1, name
        assert 0 <= s["coverage"] <= 1 and 0 <= s["gini"] <= 1, name
    # simulated shoppers cart what they viewed: a user's own items beat global popularity
    assert summary["reco-stream (this system)"]["all"]["hr@20"] > \
        summary["most popular"]["all"]["hr@20"]
    # the system against each baseline, target by target: the paired difference is the
    # difference of the two means, inside its own interval
    system = summary["reco-stream (this system)"]["all"]
    assert set(result["versus"]) == set(summary) - {"reco-stream (this system)"}
    for name, versus in result["versus"].items():
        for metric in ("hr@10", "ndcg@10", "mrr@20"):
            d = versus[metric]
            assert abs(d["difference"] - (system[metric] - summary[name]["all"][metric])) < 1e-9
            assert d["low"] <= d["difference"] <= d["high"], (name, metric)
    # every target counts in one RFM segment and, unless the user is new, one history group,
    # the same groups for every method
    segments = [g for g in system_groups(summary) if g.startswith("segment:")]
    histories = [g for g in system_groups(summary) if g.startswith("history:")]
    assert len(segments) > 1 and len(histories) > 1
    system_summary = summary["reco-stream (this system)"]
    assert sum(system_summary[g]["targets"] for g in segments) == result["targets"]
    assert sum(system_summary[g]["targets"] for g in histories) == \
        system_summary["returning"]["targets"]
    for name, s in summary.items():
        assert set(segments + histories) <= set(s), name
        for group in segments + histories:
            assert s[group]["targets"] == system_summary[group]["targets"], (name, group)
            assert 0 <= s[group]["hr@10"] <= 1
    assert "RFM segment" in (folder / "report.md").read_text()
    assert "paired over the same targets" in (folder / "report.md").read_text()
    assert (folder / "report.md").read_text().count("|") > 20
    assert (folder / "report.png").exists()


def system_groups(summary):
    return list(summary["reco-stream (this system)"])


def test_the_in_process_loop_learns_from_page_views_as_deployed():
    """Every page view is a request; later events on shown items reward the chosen mix, and a
    closed window turns what was ignored into zero rewards."""
    from evaluation.system import InProcessSystem, settings_for_data
    from online_models.linear_ts import LinearThompsonSampling
    from reco.config import load_settings
    from reco.events import Event

    def view(n, user, item, ts):
        return Event(f"e{n}", "product_view", user, ts=ts, item_id=item, category="c")

    events = [view(0, "u", "a", 1_000), view(1, "u", "b", 2_000), view(2, "u", "a", 3_000)]
    settings = settings_for_data(load_settings(), events)
    assert settings.reward_view == settings.reward_click > 0  # no click events in the data
    system = InProcessSystem(settings, retrain_factors=False)
    for event in events:
        system.learn(event)
    assert system.requests == 3  # one list per page view
    assert system.profile("u").segment >= 0  # assigned as the job does, in the context
    assert isinstance(system.policy, LinearThompsonSampling)
    models = system.policy._models  # the policy's own sums are the evidence
    # the view of "a", shown after the view of "b", is the one reward so far
    assert sum(models.pulls.values()) == 1 and sum(b[0] for b in models.b.values()) > 0
    system.learn(view(3, "u", "c", 3_000 + settings.attribution_window_ms + 1))
    assert sum(models.pulls.values()) > 1  # the closed windows: zero rewards for the rest
    asked_only = InProcessSystem(settings, retrain_factors=False, page_requests=False)
    for event in events:
        asked_only.learn(event)
    assert asked_only.requests == 0
    # the stack replay's counterpart: lists asked for and shown, rewards not learned
    at_prior = InProcessSystem(settings, retrain_factors=False, learn_policy=False)
    for event in [*events, view(3, "u", "c", 3_000 + settings.attribution_window_ms + 1)]:
        at_prior.learn(event)
    assert isinstance(at_prior.policy, LinearThompsonSampling)
    assert at_prior.requests == 4 and sum(at_prior.policy._models.pulls.values()) == 0


def test_a_data_set_without_prices_has_its_purchases_learned():
    """Taobao logs no prices: the deployed rule filtering purchases without one would drop
    every purchase of the replay."""
    from evaluation.system import InProcessSystem, settings_for_data
    from reco.config import load_settings
    from reco.events import Event

    bought = Event("e0", "purchase", "u", ts=1_000, item_id="a", category="c")
    settings = settings_for_data(load_settings(), [bought])
    assert not settings.require_purchase_price
    system = InProcessSystem(settings, retrain_factors=False)
    system.learn(bought)
    assert system.profile("u").purchased == ["a"]
    priced = dataclasses.replace(bought, price=3.0)
    assert settings_for_data(load_settings(), [priced]).require_purchase_price


def test_an_unusable_data_set_or_limit_gets_an_error_line_not_a_traceback(tmp_path, capsys):
    import pytest

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    for argv, says in ((["--dataset", "csv", str(bad)], "header needs timestamp"),
                       (["--dataset", "taobao", str(tmp_path / "none.csv")], "no such file"),
                       (["--dataset", "taobao", str(bad), "--limit", "-5"], "at least 1")):
        with pytest.raises(SystemExit) as stopped:
            evaluate(argv)
        assert stopped.value.code == 2 and says in capsys.readouterr().err, argv


def test_the_validation_and_test_periods_each_score_a_part_of_the_stream(tmp_path,
                                                                         monkeypatch):
    """Honest tuning: the system alone, scored on the validation period and on the test
    period, each on some targets and together on fewer than the whole stream has (which
    events each period scores: evaluation/prequential.py's period_split doctest)."""
    path = tmp_path / "shop.csv"
    write_shop(path)
    monkeypatch.setattr(report, "REPORTS", tmp_path / "reports")
    targets = {}
    for period in ("validation", "test", None):
        name = period or "all"
        argv = ["--dataset", "csv", str(path), "--name", name, "--system-only"]
        assert evaluate(argv + (["--period", period] if period else [])) == 0
        result = json.loads((tmp_path / "reports" / name / "report.json").read_text())
        assert list(result["summary"]) == ["reco-stream (this system)"]
        targets[name] = result["targets"]
    assert targets["validation"] > 0 and targets["test"] > 0
    assert targets["validation"] + targets["test"] < targets["all"]


def test_a_period_with_a_test_file_is_refused(tmp_path, capsys):
    import pytest

    path = tmp_path / "shop.csv"
    write_shop(path)
    with pytest.raises(SystemExit) as stopped:
        evaluate(["--dataset", "csv", str(path), "--period", "test", "--test", str(path)])
    assert stopped.value.code == 2 and "--test brings its own" in capsys.readouterr().err


def test_the_harness_serves_with_the_policy_the_server_is_set_to():
    """``settings.policy`` chooses the mix in the harness as at the server: a fixed mix is
    always that mix and learns nothing; a bandit learns from the rewards."""
    from evaluation.system import InProcessSystem
    from reco.config import Settings
    from reco.events import Event

    events = [Event(f"e{n}", "product_view", "u", ts=1_000 * (n + 1), item_id=item,
                    category="c") for n, item in enumerate("abab")]
    fixed = InProcessSystem(Settings(consent_default="allow", reward_view=1.0,
                                     policy="fixed:trending"),
                            retrain_factors=False)
    bandit = InProcessSystem(Settings(consent_default="allow", reward_view=1.0),
                             retrain_factors=False)
    for system in (fixed, bandit):
        for event in events:
            system.learn(event)
    assert fixed.policy is None and dict(fixed.mixes) == {"trending": 4}
    assert bandit.policy is not None and sum(bandit.mixes.values()) == 4
    assert sum(bandit.policy._models.pulls.values()) > 0
    with pytest.raises(ValueError, match="fixed:<mix>"):
        InProcessSystem(Settings(policy="fixed:nothing"))


def test_the_methods_replayed_over_worker_processes_score_exactly_as_in_one(tmp_path):
    """P7's bulk path: the same stream with the methods spread over processes gives every
    metric, paired difference, group and daily figure of the one-process replay."""
    from evaluation.prequential import methods, replay
    from evaluation.system import InProcessSystem
    from reco.datasets import load_dataset

    path = tmp_path / "shop.csv"
    write_shop(path)
    events = load_dataset("csv", str(path))[:3_000]
    targets = {"add_to_cart", "purchase"}
    results, systems = [], []
    for workers in (1, 3):
        chosen = methods(0, events)
        system = chosen[0]
        assert isinstance(system, InProcessSystem)
        results.append(replay(events, chosen, targets, segment_of=system.rfm_segment,
                              workers=workers))
        systems.append(system)
    one, spread = results
    # what the report says of the system's loop comes back from its worker
    assert systems[1].requests == systems[0].requests > 0
    assert systems[1].mixes == systems[0].mixes
    assert one["summary"]["reco-stream (this system)"]["all"]["targets"] > 20
    assert list(spread["summary"]) == list(one["summary"])
    assert spread == one  # to the last digit, segment groups of the baselines included
    assert any(g.startswith("segment:") for g in one["summary"]["V-SKNN"])
