"""Off-policy estimators and the OPE runner on synthetic logs whose true values are known."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from evaluation.logged_csv import read_logged_csv
from evaluation.obd import bts_action_dist, load_obd
from evaluation.ope_cli import main as ope_main
from online_models.ope import bootstrap, dr, ips, snips

RATES = {"A": 0.1, "B": 0.3, "C": 0.2}  # click rates by action for desktop users
MOBILE = {"A": 0.4, "B": 0.05, "C": 0.1}  # and for mobile users


def uniform_log(rounds: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(rounds):
        device = "mobile" if rng.random() < 0.5 else "desktop"
        action = str(rng.choice(list(RATES)))
        rate = (MOBILE if device == "mobile" else RATES)[action]
        rows.append({"action": action, "reward": int(rng.random() < rate),
                     "propensity": 1 / 3, "device": device})
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estimators_recover_a_known_policy_value_within_their_interval(seed):
    rows = uniform_log(6000, seed)
    r = np.array([row["reward"] for row in rows], dtype=float)
    p = np.array([row["propensity"] for row in rows])
    # evaluation policy: B on desktop, A on mobile; true value (0.3 + 0.4) / 2
    chosen = np.array([("A" if row["device"] == "mobile" else "B") == row["action"]
                       for row in rows], dtype=float)
    truth = 0.35
    # 99% intervals: nine estimates at 95% would miss about once in two runs of this test
    for estimator in (ips, snips):
        e = bootstrap(estimator, {"r": r, "p": p, "pi": chosen}, 300, level=0.99, seed=seed)
        assert e.low <= truth <= e.high, (estimator.__name__, e)
        assert e.high - e.low < 0.1  # and they are informative
    q = np.full(len(r), r.mean())
    e = bootstrap(dr, {"r": r, "p": p, "pi": chosen, "q": q, "q_pi": q}, 300, level=0.99,
                  seed=seed)
    assert e.low <= truth <= e.high


def test_estimators_refuse_zero_propensities():
    with pytest.raises(ValueError, match="positive"):
        ips(np.ones(2), np.array([0.5, 0.0]), np.ones(2))


def test_bts_slates_are_distributions_and_seeded():
    alpha, beta = np.array([5.0, 1.0, 1.0, 3.0]), np.array([10.0, 10.0, 10.0, 10.0])
    dist = bts_action_dist(alpha, beta, len_list=2, n_sim=2000, seed=1)
    np.testing.assert_allclose(dist.sum(axis=0), 1.0)
    assert dist[0, 0] > dist[1, 0]  # the item with the best prior leads most often
    np.testing.assert_array_equal(dist, bts_action_dist(alpha, beta, 2, 2000, seed=1))


def test_obd_layout_is_read_with_dense_positions_and_hashed_user_features(tmp_path):
    folder = tmp_path / "random" / "all"
    folder.mkdir(parents=True)
    header = ["", "timestamp", "item_id", "position", "click", "propensity_score",
              *(f"user_feature_{n}" for n in range(4)), "user-item_affinity_0",
              "user-item_affinity_1"]
    with open(folder / "all.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerow([0, "t", 1, 3, 1, 0.5, "a", "b", "c", "d", 0.0, 2.0])
        writer.writerow([1, "t", 0, 1, 0, 0.5, "a", "x", "c", "d", 1.0, 0.0])
    log = load_obd(tmp_path)
    assert log.positions.tolist() == [1, 0] and log.len_list == 2 and log.n_actions == 2
    assert log.contexts.shape == (2, 1 + 4 * 8 + 2) and log.contexts[0, -1] == 2.0
    assert (log.contexts[:, 1:33].sum(axis=1) == 4).all()


def test_ope_on_a_logged_csv_ranks_the_context_aware_policy_above_fixed_actions(tmp_path,
                                                                                monkeypatch):
    from evaluation import report

    path = tmp_path / "logged.csv"
    rows = uniform_log(8000, seed=5)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["action", "reward", "propensity", "device"])
        writer.writeheader()
        writer.writerows(rows)
    assert read_logged_csv(path).action_names == ["A", "B", "C"]
    monkeypatch.setattr(report, "REPORTS", tmp_path / "reports")
    assert ope_main(["--boot", "50", "csv", str(path)]) == 0
    import json

    result = json.loads((tmp_path / "reports" / "ope" / "csv.json").read_text())
    snips_of = {name: v["snips"]["value"] for name, v in result["policies"].items()}
    best_fixed = max(snips_of[f"always {a}"] for a in RATES)
    assert snips_of["epsilon-linucb (ours)"] > best_fixed
    replayed = result["policies"]["linear-ts (ours)"]["replay"]  # a uniform log: replay too
    assert replayed["value"] > max(result["policies"][f"always {a}"]["replay"]["value"]
                                   for a in RATES)
    assert 1000 < replayed["rounds"] < 1700  # about a third of the 4,000 test rounds
    assert (tmp_path / "reports" / "ope" / "csv.png").exists()


def _log_file(tmp_path, rows):
    path = tmp_path / "logged.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["action", "reward", "propensity", "device"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_replay_lets_a_policy_go_on_learning_where_a_frozen_copy_does_not(tmp_path):
    from evaluation.ope_replay import FixedReplayer, ThompsonReplayer, replay_value
    from evaluation.ope_runner import TS, learn_policies, slate_policies

    log = read_logged_csv(_log_file(tmp_path, uniform_log(6000, seed=7)))
    train, test = log.split(0.0)  # it knows nothing yet: frozen, it picks at random
    learned = learn_policies(train, seed=1)
    frozen = replay_value(FixedReplayer(slate_policies(learned)[TS], seed=1), test, 50, 1)
    learning = replay_value(ThompsonReplayer(learned), test, 50, 1)
    assert 1600 < learning.rounds < 2400  # about one round in three actions counts
    # the best choice per device pays 0.35, a random one 0.19
    assert learning.value > 0.3 and learning.low > frozen.high, (learning, frozen)
    # the replay learned on a copy: the policy it started from still picks at random
    again = replay_value(FixedReplayer(slate_policies(learned)[TS], seed=2), test, 50, 2)
    assert again.value < 0.25, again


def test_replay_is_left_out_when_the_log_was_not_uniformly_random(tmp_path, monkeypatch):
    import json

    from evaluation import report

    rows = uniform_log(3000, seed=8)
    for n, row in enumerate(rows):
        row["propensity"] = 0.5 if n % 2 else 0.25  # as a policy that favoured some rounds
    monkeypatch.setattr(report, "REPORTS", tmp_path / "reports")
    assert ope_main(["--boot", "20", "csv", str(_log_file(tmp_path, rows))]) == 0
    result = json.loads((tmp_path / "reports" / "ope" / "csv.json").read_text())
    assert "replay" not in result["policies"]["linear-ts (ours)"]
    assert "n/a (needs uniformly random logging)" in (
        tmp_path / "reports" / "ope" / "csv.md").read_text()


@pytest.mark.parametrize("fraction", ["1.0", "-0.1", "half"])
def test_a_train_fraction_that_leaves_nothing_to_value_is_refused_with_a_reason(fraction,
                                                                                capsys):
    with pytest.raises(SystemExit):
        ope_main(["--train-fraction", fraction, "csv", "unused.csv"])
    assert "must be at least 0 and below 1" in capsys.readouterr().err


def test_an_unusable_log_gets_an_error_line_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    for argv, says in ((["csv", str(bad)], "missing column(s) action, reward, propensity"),
                       (["csv", str(tmp_path / "none.csv")], "No such file"),
                       (["obd", "--data", str(tmp_path)], "expected the OBD layout")):
        with pytest.raises(SystemExit) as stopped:
            ope_main(argv)
        assert stopped.value.code == 2 and says in capsys.readouterr().err, argv
