"""``reco eval``: prequential evaluation on a real data set. Events are replayed in time order
through the system (evaluation/system.py: the job's and the server's own code, in process) and
the baselines; at each target event (default: add-to-cart and purchase) every method is asked
for its top 20 for that user *before* the event is learned, and the rank of the target item is
scored (HR, NDCG, MRR at 5, 10, 20; coverage, novelty, Gini of exposure; new and returning
users, the user's RFM segment at the target, the length of the user's history). A Markdown
report with tables and plots goes to ``reports/eval-<data set>/``.

  reco eval --dataset taobao ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv
  reco eval --placement similar --dataset taobao ...   (or complementary, popular)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluation.baselines import (
    CoOccurrence,
    DailyALS,
    HistoryThenCoOccurrence,
    ItemKNN,
    MostPopular,
    RecentTrending,
    SessionKNNBaseline,
    UserRecent,
)
from evaluation.metrics import KS, comparison, reachability
from evaluation.placements import PLACEMENTS
from evaluation.placements import report as placement_report
from evaluation.report import (
    machine,
    markdown_table,
    progress,
    pyplot,
    report_dir,
    write_json,
)
from evaluation.scoring import HISTORY, HISTORY_GROUPS, SEGMENT, Method, score_in_parallel
from evaluation.system import InProcessSystem, settings_for_data
from reco.arguments import positive_int
from reco.config import settings_or_exit
from reco.datasets import LOADERS, DatasetError, load_dataset
from reco.events import Event


def methods(seed: int, events: list[Event]) -> list[Method]:
    return [InProcessSystem(settings_for_data(settings_or_exit("reco eval"), events), seed=seed),
            UserRecent(), CoOccurrence(), HistoryThenCoOccurrence(), ItemKNN(),
            SessionKNNBaseline(weighted=False), SessionKNNBaseline(weighted=True),
            MostPopular(), RecentTrending(), DailyALS(seed=seed)]


def replay(events: list[Event], methods: list[Method], targets: set[str],
           segment_of: Callable[[str, int], str] | None = None,
           scored: set[str] | None = None, workers: int = 1) -> dict[str, Any]:
    """The methods' metrics over the targets (evaluation/scoring.py: ``score``, over
    ``workers`` processes), their paired differences with the first method's and their
    daily HR@10."""
    metrics, daily = score_in_parallel(events, methods, targets, segment_of, scored, workers)
    popularity = Counter(e.item_id for e in events if e.item_id)
    first, *others = list(metrics)
    return {"summary": {name: m.summary(len(popularity), popularity)
                        for name, m in metrics.items()},
            "versus": {other: comparison(metrics[first], metrics[other]) for other in others},
            "daily_hr10": {name: {day: hits / total for day, (hits, total) in sorted(d.items())}
                           for name, d in daily.items()}}


PERIODS = {"validation": (0.6, 0.8), "test": (0.8, 1.0)}  # shares of the stream's events


def period_split(events: list[Event], period: str) -> tuple[list[Event], set[str]]:
    """Honest tuning: the events to replay and the ids of those to score for ``period``.
    The stream (in time order) is cut by its events: ``validation`` scores the targets of
    its 60-80% part (a period inside the training part, for choosing settings) and replays
    nothing after it; ``test`` scores the last 20% (for reporting) after learning the rest.

    >>> events = [Event(f"e{n}", "purchase", "u", ts=n, item_id="i") for n in range(10)]
    >>> replayed, scored = period_split(events, "validation")
    >>> len(replayed), sorted(scored)
    (8, ['e6', 'e7'])
    >>> replayed, scored = period_split(events, "test")
    >>> len(replayed), sorted(scored)
    (10, ['e8', 'e9'])
    """
    low, high = PERIODS[period]
    start, end = round(low * len(events)), round(high * len(events))
    return events[:end], {event.event_id for event in events[start:end]}


def with_test_sessions(train: list[Event], test: list[Event]) -> tuple[list[Event], set[str]]:
    """The training events then the test ones (their ids made distinct from the training
    file's), and the ids of the test events to score: each after its session's first.

    >>> a = [Event("1", "product_view", "s1", ts=1, item_id="x")]
    >>> b = [Event("1", "product_view", "s2", ts=5, item_id="x"),
    ...      Event("2", "product_view", "s2", ts=6, item_id="y")]
    >>> events, scored = with_test_sessions(a, b)
    >>> [e.event_id for e in events], sorted(scored)
    (['1', 'test-1', 'test-2'], ['test-2'])
    """
    test = [dataclasses.replace(e, event_id=f"test-{e.event_id}") for e in test]
    seen: set[str] = set()
    scored = set()
    for event in test:
        if event.user_id in seen:
            scored.add(event.event_id)
        seen.add(event.user_id)
    return sorted(train + test, key=lambda e: e.ts), scored


def versus_table(versus: dict[str, dict[str, dict[str, float]]], first: str) -> str:
    """The first method against each other, target by target, at K = 10, with its heading."""
    columns = ("hr@10", "ndcg@10", "mrr@10")
    rows = [[f"{first} - {other}", *(_difference(d[c]) for c in columns)]
            for other, d in versus.items()]
    return ("Differences, target by target, with 95% intervals (bold: the interval excludes "
            "0):\n\n" + markdown_table(["paired over the same targets",
                                        *(c.upper() for c in columns)], rows))


def _difference(d: dict[str, float]) -> str:
    """'+0.0120 [+0.0050, +0.0190]', bold when the 95% interval excludes zero."""
    text = f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
    return f"**{text}**" if d["low"] > 0 or d["high"] < 0 else text


def groups_of(summary: dict[str, Any], prefix: str) -> list[str]:
    """The summary's groups named ``prefix``...: segments by their number of targets,
    history groups shortest first."""
    first = next(iter(summary.values()))
    groups = [g for g in first if g.startswith(prefix)]
    order = [HISTORY + label for _, label in HISTORY_GROUPS]
    return sorted(groups, key=lambda g: order.index(g) if g in order else -first[g]["targets"])


def _group_table(summary: dict[str, Any], prefix: str, title: str) -> str:
    names = list(summary)
    first = summary[names[0]]
    rows = [[g[len(prefix):], first[g]["targets"], *(summary[m][g]["hr@10"] for m in names)]
            for g in groups_of(summary, prefix)]
    return f"{title}\n\n" + markdown_table(["group", "targets", *names], rows) if rows else ""


def _tables(summary: dict[str, Any]) -> str:
    header = ["method", *(f"{m}@{k}" for k in KS for m in ("HR", "NDCG", "MRR")),
              "coverage", "novelty", "Gini"]
    rows = [[name, *(s["all"][f"{m}@{k}"] for k in KS for m in ("hr", "ndcg", "mrr")),
             s["coverage"], s["novelty"], s["gini"]] for name, s in summary.items()]
    split = [[name, s["new"]["targets"], s["new"]["hr@10"], s["returning"]["targets"],
              s["returning"]["hr@10"]] for name, s in summary.items()]
    parts = [markdown_table(header, rows), "New and returning users:",
             markdown_table(["method", "new: targets", "new: HR@10",
                             "returning: targets", "returning: HR@10"], split),
             _group_table(summary, SEGMENT, "HR@10 by the user's RFM segment at the target "
                          "(as the job names it; \"no history\": no event yet):"),
             _group_table(summary, HISTORY, "HR@10 by the user's events before the target:")]
    return "\n\n".join(part for part in parts if part)


def _group_panel(ax: Any, summary: dict[str, Any], prefix: str, title: str) -> None:
    """HR@10 per group, a bar per method side by side (the colours of the time panel)."""
    groups = groups_of(summary, prefix)
    width = 0.8 / len(summary)
    for n, (name, s) in enumerate(summary.items()):
        ax.bar([g + (n - (len(summary) - 1) / 2) * width for g in range(len(groups))],
               [s[g]["hr@10"] for g in groups], width=width, label=name)
    first = next(iter(summary.values()))
    ax.set_xticks(range(len(groups)),
                  [f"{g[len(prefix):]}\n({first[g]['targets']})" for g in groups],
                  fontsize=7, rotation=30)
    ax.set_ylabel("HR@10")
    ax.set_title(title)


def _plots(result: dict[str, Any], folder: Path) -> None:
    plt = pyplot()
    fig, ((left, right), (segments, history)) = plt.subplots(2, 2, figsize=(13, 9))
    for name, series in result["daily_hr10"].items():
        days = sorted(series)
        left.plot(range(len(days)), [series[d] for d in days], marker="o", label=name)
    left.set_xticks(range(max(map(len, result["daily_hr10"].values()), default=0)))
    left.set_xlabel("day of the replay")
    left.set_ylabel("HR@10 of that day's targets")
    left.set_title("HR@10 over time")
    left.legend(fontsize=7)
    summary = result["summary"]
    names = list(summary)
    width = 0.4
    for offset, group in ((-width / 2, "new"), (width / 2, "returning")):
        right.barh([n + offset for n in range(len(names))],
                   [summary[m][group]["hr@10"] for m in names], height=width,
                   label=f"{group} users")
    right.set_yticks(range(len(names)), names, fontsize=8)
    right.set_xlabel("HR@10")
    right.set_title("by segment: new and returning users")
    right.legend(fontsize=8)
    _group_panel(segments, summary, SEGMENT, "by the user's RFM segment (targets)")
    _group_panel(history, summary, HISTORY, "by the user's events before the target (targets)")
    fig.tight_layout()
    fig.savefig(folder / "report.png", dpi=110)
    plt.close(fig)


def _stack_comparison(events: list[Event], targets: set[str], args: argparse.Namespace) -> int:
    from evaluation.stack_replay import replay_through_stack

    result = replay_through_stack(events, targets, args.stack)
    rows = [[where, result[key]["all"]["targets"],
             *(result[key]["all"][f"{m}@{k}"] for k in KS for m in ("hr", "ndcg"))]
            for where, key in (("served by the stack (gRPC)", "stack"),
                               ("in process", "in_process"))]
    table = "\n\n".join([
        markdown_table(["system", "targets", *(f"{m}@{k}" for k in KS for m in ("HR", "NDCG"))],
                       rows),
        versus_table({"in process": result["stack_minus_in_process"]}, "stack")])
    folder = report_dir(args.name or f"eval-{args.dataset}-stack")
    write_json(folder, "report", {"machine": machine(), **result})
    (folder / "report.md").write_text(f"# Replay through the real stack: {args.dataset}\n\n"
                                      f"{table}\n")
    print(table)
    print(f"\nwrote {folder}/report.md and report.json")
    return 0


def _reach_text(reach: dict[str, float]) -> str:
    return (f"Where the targets come from: {reach['own_history']:.1%} are items the user had "
            f"touched before (the ceiling of methods that rank the user's history), "
            f"{reach['others_only']:.1%} items only other users had touched, and "
            f"{reach['never_seen']:.1%} items nobody had touched yet (no method that learns "
            "from the replay can rank those).")


def _loop_text(system: Method) -> str:
    if not isinstance(system, InProcessSystem):
        return ""
    view = system.settings.reward_view
    position = (" Rewards counted 1/log2(p+2) at position p."
                if system.settings.reward_position_discount else "")
    chosen = ", ".join(f"{mix} {count / max(1, system.requests):.0%}"
                       for mix, count in system.mixes.most_common())
    return (f"The system's policy ({system.settings.policy}) learned as deployed, from "
            f"{system.requests:,} requests (every page view asks for a list, and so does each "
            "target) and the events on what they showed" +
            (f" (no click events in the data: a view of a shown item counted as a click, "
             f"reward {view:g})." if view else ".") + position +
            f" The mixes it chose: {chosen}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reco eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, choices=sorted(LOADERS),
                        help="the data set's format")
    parser.add_argument("path", help="the data set file (see reco/datasets.py)")
    parser.add_argument("--targets", default="add_to_cart,purchase",
                        help="event types to predict (e.g. product_view for next click)")
    parser.add_argument("--limit", type=positive_int, help="replay only the first N events")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", help="report folder name (default: eval-<dataset>)")
    parser.add_argument("--test", metavar="FILE",
                        help="the session-rec protocol: learn the data set (e.g. its "
                             "_train_full), then predict each next item within the sessions of "
                             "FILE (its _test), every event after a session's first; methods "
                             "keep learning online from the test events once asked")
    parser.add_argument("--period", choices=sorted(PERIODS),
                        help="score only one part of the stream (honest tuning): validation "
                             "(its 60-80%% part: choose settings on it) or test (its last "
                             "20%%: report on it); default: every target")
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                        help="processes to replay the methods in: the system in one, the "
                             "baselines spread over the others; the same results as one "
                             "process (default: one per CPU)")
    parser.add_argument("--system-only", action="store_true",
                        help="replay the system alone, without the baselines (tuning runs)")
    parser.add_argument("--placement", choices=PLACEMENTS,
                        help="instead: item-to-item next-event prediction for a placement "
                             "beside the personal list (evaluation/placements.py)")
    parser.add_argument("--stack", type=positive_int, metavar="TARGETS",
                        help="instead: replay through the real stack (Kafka, the job, gRPC) "
                             "for this many targets, next to the in-process system")
    args = parser.parse_args(argv)
    progress(f"loading {args.dataset} from {args.path}")
    scored: set[str] | None = None
    try:
        events = load_dataset(args.dataset, args.path)[:args.limit]
        if args.test:
            events, scored = with_test_sessions(events, load_dataset(args.dataset, args.test))
    except (DatasetError, OSError) as exc:  # the input: say what is wrong with it
        parser.error(str(exc))
    if args.period:
        if args.test:
            parser.error("--period splits one stream; --test brings its own test part")
        events, scored = period_split(events, args.period)
    if args.placement:
        settings = settings_for_data(settings_or_exit("reco eval"), events)
        print(placement_report(events, args.placement, settings, args.dataset,
                               "reco eval " + " ".join(argv or []), args.seed))
        return 0
    targets = set(args.targets.split(","))
    n_targets = sum(1 for e in events if e.event_type in targets
                    and (scored is None or e.event_id in scored))
    progress(f"{len(events)} events, {len({e.user_id for e in events})} users, "
             f"{len({e.item_id for e in events})} items, {n_targets} targets "
             f"({', '.join(sorted(targets))})")
    if not n_targets:
        progress("no target events: choose --targets among the data set's event types")
        return 1
    if args.stack:
        return _stack_comparison(events, targets, args)
    systems = methods(args.seed, events)[:1 if args.system_only else None]
    system = systems[0]
    result = replay(events, systems, targets, segment_of=system.rfm_segment
                    if isinstance(system, InProcessSystem) else None, scored=scored,
                    workers=args.workers)
    result["reachability"] = reachability(events, targets)
    folder = report_dir(args.name or f"eval-{args.dataset}")
    command = "reco eval " + " ".join(argv or [])
    write_json(folder, "report", {"command": command, "machine": machine(),
                                  "events": len(events), "targets": n_targets, **result})
    tables = "\n\n".join([
        _tables(result["summary"]), versus_table(result["versus"], systems[0].name)])
    (folder / "report.md").write_text("\n\n".join([
        f"# Prequential evaluation: {args.dataset}", f"`{command}` on {machine()}",
        f"{len(events)} events, {n_targets} targets ({', '.join(sorted(targets))}); each "
        "method ranks 20 items for the user just before each target event.", tables,
        _reach_text(result["reachability"]), _loop_text(systems[0]),
        "![HR@10 over time and by segment](report.png)"]) + "\n")
    _plots(result, folder)
    print(tables)
    print(f"\nwrote {folder}/report.md, report.json and report.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
