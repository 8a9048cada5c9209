"""The per-event cost of the per-user path against what grows with the data (issue 30, P1:
"per-event cost must not grow with the number of items, categories or a user's history
length; show the curve").

In process, as bench/user_work.py measures it: the user step with its states pickled between
events as in RocksDB, and every event publishing (the most expensive case). Three sweeps on
simulated shoppers, each changing one thing: the catalog's items, its categories, and how
long each user's history is. The history curve is the cost of an event by how many events
of hers came before it; with a Taobao file it is drawn on the real histories too (hundreds
to thousands of events per user, with their own times).

  python -m bench.cost_curve [--taobao FILE]   (FILE: the UserBehavior CSV of the Taobao sample)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine, percentile, progress, write_results
from bench.user_work import simulated, user_work
from reco.arguments import positive_int
from reco.config import Settings
from reco.events import Event
from reco.history import read_history

# events before hers: [lo, hi)
HISTORY_BUCKETS = ((0, 10), (10, 100), (100, 1000), (1000, 10**9))


def mean_us(events: list[Event]) -> float:
    return float(user_work(events, Settings())["total_us_per_event"])


def by_history(events: list[Event]) -> list[dict[str, Any]]:
    """Median and p90 microseconds of an event by the number of her events before it."""
    seen: Counter[str] = Counter()
    times: dict[int, list[float]] = defaultdict(list)

    def record(event: Event, seconds: float) -> None:
        before = seen[event.user_id]
        seen[event.user_id] += 1
        bucket = next(i for i, (lo, hi) in enumerate(HISTORY_BUCKETS) if lo <= before < hi)
        times[bucket].append(seconds * 1e6)

    user_work(events, Settings(), each=record)
    return [{"history": f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo}+",
             "events": len(times[i]), "p50_us": percentile(times[i], 50),
             "p90_us": percentile(times[i], 90)}
            for i, (lo, hi) in enumerate(HISTORY_BUCKETS) if times[i]]


def sweep(name: str, values: list[int], events: int, **fixed: Any) -> list[dict[str, Any]]:
    rows = []
    for value in values:
        progress(f"{name} = {value:,}")
        rows.append({name: value, "us_per_event": mean_us(
            simulated(events, run_id="curve", **{**fixed, name: value}))})
    return rows


def measure(args: argparse.Namespace) -> dict[str, Any]:
    n = args.events
    results: dict[str, Any] = {
        "command": "python -m bench.cost_curve " + " ".join(sys.argv[1:]), "machine": machine(),
        "items": sweep("n_items", [1_000, 10_000, 100_000], n, n_users=1_000),
        "categories": sweep("n_categories", [12, 120, 1_200, 3_000], n, n_users=1_000,
                            n_items=20_000),
    }
    progress(f"history length: 20 simulated users with ~{n // 20:,} events each")
    results["history_simulated"] = by_history(simulated(
        n, run_id="curve", n_users=20, sessions_per_user=250, bot_share=0.0))
    if args.taobao:
        progress(f"history length: {args.taobao}")
        results["history_taobao"] = by_history(read_history(args.taobao, "taobao").events)
    return results


def print_table(results: dict[str, Any]) -> None:
    for key, name in (("items", "n_items"), ("categories", "n_categories")):
        print(f"{name:>14s}  us/event")
        for row in results[key]:
            print(f"{row[name]:14,d}  {row['us_per_event']:8.1f}")
    for key in ("history_simulated", "history_taobao"):
        if key in results:
            print(f"{key:>18s}   events    p50 us    p90 us")
            for row in results[key]:
                print(f"{row['history']:>18s} {row['events']:8d} {row['p50_us']:9.1f} "
                      f"{row['p90_us']:9.1f}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for ax, key, name, label in ((axes[0], "items", "n_items", "items in the catalog"),
                                 (axes[1], "categories", "n_categories", "categories")):
        rows = results[key]
        ax.plot([r[name] for r in rows], [r["us_per_event"] for r in rows], marker="o")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("µs of Python per event")
    for key, label in (("history_simulated", "simulated"), ("history_taobao", "Taobao")):
        rows = results.get(key)
        if rows:
            axes[2].plot([r["history"] for r in rows], [r["p50_us"] for r in rows],
                         marker="o", label=f"{label}, median")
    axes[2].set_xlabel("her events before this one")
    axes[2].set_ylim(bottom=0)
    axes[2].legend()
    fig.suptitle("Per-event cost of the per-user path (in process, every event publishing)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost_curve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_int, default=30_000,
                        help="simulated events per point (default 30,000)")
    parser.add_argument("--taobao", metavar="FILE",
                        help="UserBehavior CSV: the history curve on its real histories too")
    args = parser.parse_args()
    results = measure(args)
    path = write_results("cost_curve", results)
    plot(results, RESULTS / "cost_curve-latest.png")
    print_table(results)
    print(f"\nwrote {path} and {RESULTS / 'cost_curve-latest.png'}")


if __name__ == "__main__":
    main()
