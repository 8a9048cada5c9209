"""``reco ope``: off-policy evaluation of bandit policies on logged data, with confidence
intervals, as a table, JSON, Markdown and a PNG under ``reports/ope/``.

  reco ope obd --data ../shared/datasets/obd [--campaign all]
      First validates the estimator: obp's Bernoulli TS (ZOZOTOWN prior, 100,000 draws, seed
      12345) valued by IPS on the uniform-random log, against obp's README figure (1.198126
      times the random policy's click rate). Then our policies, learned on the first half of
      the random log, valued on the second half next to BTS and random (IPS, SNIPS, DR, and
      replay, which lets each policy go on learning; evaluation/ope_replay.py).
  reco ope csv FILE
      A shop's own randomised test (evaluation/logged_csv.py): our policies learned on the first
      part, valued by IPS/SNIPS/DR on the rest next to every fixed action, and by replay when
      the test assigned actions uniformly at random.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from evaluation.logged_csv import read_logged_csv
from evaluation.obd import LoggedFeedback, bts_action_dist, bts_prior, load_obd
from evaluation.ope_replay import replay_value, replayers, uniformly_random
from evaluation.ope_runner import (
    PolicyValue,
    RidgeModel,
    learn_policies,
    slate_policies,
    value,
)
from evaluation.report import markdown_table, progress, pyplot, report_dir, write_json
from online_models.ope import Estimate, bootstrap
from reco.arguments import below_one, positive_int
from reco.datasets import DatasetError

OBP_README_BTS_RELATIVE = 1.198126
ESTIMATORS = ("ips", "snips", "dr", "replay")
NOT_UNIFORM = "n/a (needs uniformly random logging)"


def _random_value(test: LoggedFeedback, n_boot: int, seed: int) -> Estimate:
    return bootstrap(lambda r: float(np.mean(r)), {"r": test.rewards}, n_boot, seed=seed)


def _rows(values: list[PolicyValue], baseline: float) -> list[list[Any]]:
    rows = []
    for v in values:
        row: list[Any] = [v.policy]
        for name in ESTIMATORS:
            if name not in v.estimates:
                row.append(NOT_UNIFORM)
                continue
            e = v.estimates[name].relative_to(baseline)
            rounds = f", {e.rounds} rounds" if name == "replay" else ""
            row.append(f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]{rounds}")
        rows.append(row)
    return rows


def _plot(values: list[PolicyValue], baseline: float, title: str, path: Any) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(values) + 1.5))
    for n, v in enumerate(values):
        e = v.estimates["snips"].relative_to(baseline)
        ax.errorbar(e.value, n, xerr=[[e.value - e.low], [e.high - e.value]], fmt="o",
                    capsize=4, color="#2b6cb0")
    ax.axvline(1.0, color="#999999", linestyle="--", label="logging policy")
    ax.set_yticks(range(len(values)), [v.policy for v in values])
    ax.set_xlabel("estimated click rate / logged click rate (SNIPS, 95% bootstrap CI)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _evaluate(log: LoggedFeedback, extra: dict[str, np.ndarray], train_fraction: float,
              n_boot: int, seed: int) -> tuple[list[PolicyValue], float]:
    train, test = log.split(train_fraction)
    progress(f"learning on {len(train)} rounds, valuing on {len(test)}")
    model = RidgeModel(train)
    learned = learn_policies(train, seed)
    policies: dict[str, Any] = {**slate_policies(learned), **extra}
    values = []
    for name, dist in policies.items():
        progress(f"  {name}")
        values.append(value(name, dist, test, model, n_boot, seed))
    if uniformly_random(test):  # after the frozen estimates: replay goes on learning
        progress("  replay: each policy picks per round and learns where it matches the log")
        replayer_of = replayers(learned, policies, seed)
        for v in values:
            v.estimates["replay"] = replay_value(replayer_of[v.policy], test, n_boot, seed)
    logged = _random_value(test, n_boot, seed)
    values.append(PolicyValue("logging policy (on-policy mean)",
                              {name: logged for name in ESTIMATORS}))
    return values, logged.value


def _write(name: str, title: str, values: list[PolicyValue], baseline: float,
           header_notes: list[str], data: dict[str, Any]) -> None:
    folder = report_dir("ope")
    rows = _rows(values, baseline)
    table = markdown_table(["policy", "IPS", "SNIPS", "DR", "replay (rounds that count)"],
                           rows)
    (folder / f"{name}.md").write_text("\n\n".join([
        f"# {title}", *header_notes,
        "Click rate relative to the logging policy's, with 95% intervals (bootstrap; Wilson's "
        "for replay's clicks). IPS, SNIPS "
        "and DR value each policy as it was after learning on the first part of the log; "
        "replay (uniformly random logs only) lets it go on learning on the rounds where it "
        "picks what the log shows, the only rounds that count:",
        table, f"![plot]({name}.png)"]) + "\n")
    _plot(values, baseline, title, folder / f"{name}.png")
    write_json(folder, name, {**data, "baseline_ctr": baseline, "policies": {
        v.policy: {k: vars(e) for k, e in v.estimates.items()} for v in values}})
    print(table)
    print(f"\nwrote {folder / name}.md, .json and .png")


def run_obd(args: argparse.Namespace) -> int:
    log = load_obd(args.data, "random", args.campaign)
    progress(f"OBD random/{args.campaign}: {len(log)} rounds, {log.n_actions} items, "
             f"{log.len_list} slots, click rate {log.rewards.mean():.4f}")
    alpha, beta = bts_prior(args.campaign, args.prior)
    progress(f"BTS action distribution ({args.n_sim} draws)")
    bts = bts_action_dist(alpha, beta, log.len_list, args.n_sim, seed=12345)
    pi = bts[log.actions, log.positions]
    reproduced = float(np.mean(log.rewards * pi / log.pscores)) / float(log.rewards.mean())
    match = abs(reproduced - OBP_README_BTS_RELATIVE) < 5e-7
    check = (f"BTS / random click rate by IPS: {reproduced:.6f} (obp's README: "
             f"{OBP_README_BTS_RELATIVE}): {'reproduced' if match else 'DIFFERENT'}")
    print(check)
    values, baseline = _evaluate(log, {"Bernoulli TS (obp, ZOZOTOWN prior)": bts},
                                 args.train_fraction, args.boot, args.seed)
    _write(f"obd-{args.campaign}", f"Off-policy evaluation on OBD random/{args.campaign}",
           values, baseline, [check], {"reproduced_bts_relative": reproduced})
    return 0 if match else 1


def run_csv(args: argparse.Namespace) -> int:
    log = read_logged_csv(args.file)
    progress(f"{args.file}: {len(log)} rounds, {log.n_actions} actions, "
             f"{len(log.features)} context features")
    train, _ = log.split(args.train_fraction)
    fixed = {}
    for n, action in enumerate(log.action_names):
        dist = np.zeros((log.n_actions, log.len_list))
        dist[n, :] = 1.0
        fixed[f"always {action}"] = dist
    values, baseline = _evaluate(log, fixed, args.train_fraction, args.boot, args.seed)
    _write("csv", f"Off-policy evaluation on {args.file}", values, baseline, [],
           {"file": str(args.file), "train_rounds": len(train)})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reco ope", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boot", type=positive_int, default=300, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-fraction", type=below_one, default=0.5,
                        help="the first part of the log our policies learn on (0 <= f < 1); "
                             "they are valued on the rest")
    sub = parser.add_subparsers(dest="source", required=True)
    p = sub.add_parser("obd", help="the Open Bandit Dataset (validates the estimator first)")
    p.add_argument("--data", required=True, help="the obd folder (random/, bts/)")
    p.add_argument("--campaign", default="all", choices=["all", "men", "women"])
    p.add_argument("--prior", help="obp's prior_bts.yaml (default: fetched from obp's package)")
    p.add_argument("--n-sim", type=positive_int, default=100_000, help="BTS Monte Carlo draws")
    p.set_defaults(func=run_obd)
    p = sub.add_parser("csv", help="a generic logged-bandit CSV")
    p.add_argument("file")
    p.set_defaults(func=run_csv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (DatasetError, OSError) as exc:  # the input: say what is wrong with it
        parser.error(str(exc))


if __name__ == "__main__":
    raise SystemExit(main())
