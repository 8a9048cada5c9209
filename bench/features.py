"""Feature-engine benchmark, in process (the same logic the job runs): state bytes per user
over many simulated users, and a replay of a real data set (Taobao UserBehavior) with profile
statistics and throughput. Prints tables, writes JSON and a PNG under bench/results.

  python -m bench.features --state-users 100000
  python -m bench.features --taobao \
      ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine, percentile, progress, write_results
from bench.user_work import top_lists
from features.profile_view import profile_message
from reco.arguments import count
from reco.config import Settings
from reco.datasets import load_taobao
from reco.events import Event
from reco.simulator import ShopperSimulation, SimConfig
from serving.store import PROFILES, RECOMMENDATIONS, Change, Store
from userstep.engine import FeatureEngine
from userstep.step import Shared, UserState, UserStep


def replay(engine: FeatureEngine, events: Iterable[Event], total: int) -> dict[str, Any]:
    rules: Counter[str] = Counter()
    start = time.perf_counter()
    step = max(1, total // 10)
    for n, event in enumerate(events, 1):
        rule = engine.process(event)
        rules[(rule or "clean").split(":")[0]] += 1
        if n % step == 0:
            progress(f"  {n}/{total} events ({n / (time.perf_counter() - start):.0f}/s)")
    seconds = time.perf_counter() - start
    return {"events": total, "seconds": seconds, "events_per_s": total / seconds,
            "rules": dict(rules)}


def state_sizes(engine: FeatureEngine) -> dict[str, float]:
    """Pickled bytes per user of the job's keyed state: the profile, and the quality state
    (recent event ids, bot counters, the session's last item)."""
    sizes = []
    for user, profile in engine.profiles.items():
        sizes.append(len(pickle.dumps(profile, protocol=5))
                     + len(pickle.dumps(engine.quality[user], protocol=5)))
    return {"users": len(sizes), "mean": sum(sizes) / len(sizes),
            "p50": percentile(sizes, 50), "p90": percentile(sizes, 90),
            "p99": percentile(sizes, 99), "max": max(sizes)}


def run_state(users: int, settings: Settings) -> dict[str, Any]:
    progress(f"simulating {users} users")
    sim = ShopperSimulation(SimConfig(n_users=users, n_items=20_000, sessions_per_user=2,
                                      seed=5))
    events = list(sim.events())
    engine = FeatureEngine(settings)
    progress(f"replaying {len(events)} events through the feature engine")
    result = replay(engine, events, len(events))
    result["state_bytes"] = state_sizes(engine)
    result["serving_store"] = serving_store_size(engine, settings, events)
    return result


def serving_store_size(engine: FeatureEngine, settings: Settings,
                       events: list[Event]) -> dict[str, float]:
    """Bytes per user on disk in the serving store (rocksdict, compacted): each user's
    published profile and candidate pool, as the loader writes them."""
    shared = Shared(top_lists(events, settings.category_top_n).get)
    step = UserStep(settings)
    step.profiles = engine.book  # the population statistics the engine learned

    def changes() -> Iterator[Change]:
        for user, profile in engine.profiles.items():
            profile.published = 0  # publish the list whatever was published before
            out = step.publish(UserState(profile), user, shared, profile.last_seen)
            yield Change(PROFILES, user, out.profile.SerializeToString())
            if out.recommendations is not None:
                yield Change(RECOMMENDATIONS, user, out.recommendations)

    size = store_bytes(changes())
    return {"users": len(engine.profiles), "bytes": size,
            "bytes_per_user": size / max(1, len(engine.profiles))}


def store_bytes(changes: Iterable[Change]) -> int:
    """Bytes on disk of a serving store holding ``changes``, after compaction."""
    folder = Path(tempfile.mkdtemp(prefix="reco-store-size-"))
    store = Store(folder / "db")
    batch: list[Change] = []
    for change in changes:
        batch.append(change)
        if len(batch) >= 10_000:
            store.apply(batch, {})
            batch = []
    store.apply(batch, {})
    store.compact()
    store.close()
    size = sum(f.stat().st_size for f in (folder / "db").iterdir() if f.suffix == ".sst")
    shutil.rmtree(folder)
    return size


def run_taobao(path: str, settings: Settings) -> dict[str, Any]:
    progress(f"loading {path}")
    events = load_taobao(path)
    engine = FeatureEngine(settings.replace(require_purchase_price=False))
    result = replay(engine, events, len(events))
    end = events[-1].ts  # profiles as of the end of the data set
    messages = [profile_message(p, u, end, 0, engine.population, engine.config)
                for u, p in engine.profiles.items()]
    result["profiles"] = {
        "users": len(messages),
        "events_per_user_p50": percentile([m.event_count for m in messages], 50),
        "sessions_per_user_p50": percentile([m.sessions.count for m in messages], 50),
        "segments": dict(Counter(m.rfm.segment for m in messages)),
        "top_category_share_p50": percentile(
            [max(m.category_preferences.values(), default=0.0) for m in messages], 50),
        "flagged_users": sum(1 for m in messages if m.flagged_until_ms),
    }
    result["state_bytes"] = state_sizes(engine)
    return result


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [k for k in ("state", "taobao") if k in results]
    fig, axes = plt.subplots(1, 2 * len(panels), figsize=(6 * len(panels) * 1.6, 3.8))
    axes = list(axes) if len(panels) * 2 > 1 else [axes]
    for n, key in enumerate(panels):
        r = results[key]
        sizes = r["state_bytes"]
        left, right = axes[2 * n], axes[2 * n + 1]
        left.bar(["p50", "p90", "p99", "mean"], [sizes["p50"], sizes["p90"], sizes["p99"],
                                                 sizes["mean"]], color="#2b6cb0")
        left.axhline(2048, color="#c53030", linestyle="--", label="2 KiB budget")
        left.set_title(f"{key}: state bytes per user ({sizes['users']} users)")
        left.legend()
        counts = r["profiles"]["segments"] if key == "taobao" else r["rules"]
        right.barh(list(counts), list(counts.values()), color="#2f855a")
        right.set_title("RFM segments" if key == "taobao" else "events by filter verdict")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.features", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-users", type=count, default=0, help="simulated users to size")
    parser.add_argument("--taobao", help="path of a Taobao UserBehavior CSV to replay")
    args = parser.parse_args()
    if not args.state_users and not args.taobao:
        parser.error("give --state-users N and/or --taobao PATH")
    settings = Settings()
    results: dict[str, Any] = {"machine": machine(), "command": "python -m bench.features"}
    if args.state_users:
        results["state"] = run_state(args.state_users, settings)
    if args.taobao:
        results["taobao"] = run_taobao(args.taobao, settings)
    path = write_results("features", results)
    plot(results, RESULTS / "features-latest.png")
    for key in ("state", "taobao"):
        if key in results:
            r = results[key]
            print(f"\n{key}: {r['events']} events, {r['events_per_s']:.0f} events/s in process")
            print(f"  verdicts: {r['rules']}")
            print(f"  state bytes per user: {r['state_bytes']}")
            if "serving_store" in r:
                print(f"  serving store (profile + pool, compacted): {r['serving_store']}")
            if "profiles" in r:
                print(f"  profiles: {r['profiles']}")
    print(f"\nwrote {path} and {RESULTS / 'features-latest.png'}")


if __name__ == "__main__":
    main()
