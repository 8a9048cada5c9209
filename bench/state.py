"""State per user at scale, from the real job: simulated users (10,000 and 100,000 by default),
each with the same number of events, read from a backlog by the full job (parallelism and
settings as configured). Then the size of its latest completed checkpoint (all keyed state:
RocksDB, incremental) and of a serving store built from what it published (each user's profile
and candidate pool, as the loader writes them, compacted). Each size runs on a broker of its own.

  python -m bench.state --users 10000,100000 --events-per-user 5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.backlog import (
    checkpoint_state_bytes,
    drain_profiles,
    run_job,
    send_backlog,
    settings_for,
)
from bench.common import RESULTS, machine, progress, write_results
from bench.features import store_bytes
from infra.processes import exit_on_sigterm, wait_until
from infra.stack import local_kafka
from infra.topic_reader import latest_values
from reco.arguments import positive_int
from reco.events import Event
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import ensure_topics
from serving.store import PROFILES, RECOMMENDATIONS, Change

SECONDS_PER_EVENT = 1 / 200  # the drain's time limit, far below the job's throughput


def user_events(users: int, per_user: int, seed: int = 5) -> list[Event]:
    """The first ``per_user`` events of each of ``users`` simulated users, in time order
    (users with fewer events keep all theirs)."""
    sim = ShopperSimulation(SimConfig(n_users=users, n_items=20_000, sessions_per_user=2,
                                      seed=seed, run_id=f"state{time.time_ns()}"))
    taken: Counter[str] = Counter()
    out = []
    for event in sim.events():
        if taken[event.user_id] < per_user:
            taken[event.user_id] += 1
            out.append(event)
    return out


def measure(root: Path, users: int, per_user: int) -> dict[str, Any]:
    with local_kafka(root, f"kafka-{users}") as kafka:
        settings = settings_for(kafka, root, f"state-{users}")
        ensure_topics(settings)
        events = user_events(users, per_user)
        progress(f"{users} users: preloading {len(events)} events")
        send_backlog(settings, events)
        job = run_job(settings, "jobs.recommend", root / f"job-{users}")
        try:
            progress(f"{users} users: the job reads the backlog")
            rate = drain_profiles(settings, events, len(events) * SECONDS_PER_EVENT + 120)
            progress(f"{users} users: {rate['events_per_s']:.0f} events/s; waiting for a "
                     "checkpoint after the last event")
            time.sleep(3 * settings.checkpoint_interval_ms / 1000)
            wait_until(lambda: checkpoint_state_bytes(settings) is not None, 60,
                       "a completed checkpoint")
            flink = checkpoint_state_bytes(settings) or 0
        finally:
            job.stop()
        published = [Change(PROFILES, key.decode(), value) for key, value in
                     latest_values(settings, settings.topic_user_profiles).items()]
        published += [Change(RECOMMENDATIONS, key.decode(), value) for key, value in
                      latest_values(settings, settings.topic_recommendations).items()]
        store = store_bytes(published)
    seen = len({e.user_id for e in events})
    return {"users": seen, "events": len(events), "events_per_user": len(events) / seen,
            "throughput_events_per_s": rate["events_per_s"],
            "flink_checkpoint_bytes": flink, "flink_bytes_per_user": flink / seen,
            "serving_store_bytes": store, "serving_store_bytes_per_user": store / seen}


def print_table(results: dict[str, Any]) -> None:
    print(f"\nmachine: {results['machine']}")
    print(f"{'users':>8} {'events':>9} {'ev/user':>8} {'Flink B/user':>13} "
          f"{'store B/user':>13} {'ev/s':>7}")
    for r in results["runs"]:
        print(f"{r['users']:8d} {r['events']:9d} {r['events_per_user']:8.1f} "
              f"{r['flink_bytes_per_user']:13.0f} {r['serving_store_bytes_per_user']:13.0f} "
              f"{r['throughput_events_per_s']:7.0f}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    labels = [f"{r['users']:,} users" for r in runs]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.38
    xs = range(len(runs))
    ax.bar([x - width / 2 for x in xs], [r["flink_bytes_per_user"] for r in runs], width,
           label="Flink checkpoint")
    ax.bar([x + width / 2 for x in xs], [r["serving_store_bytes_per_user"] for r in runs],
           width, label="serving store")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("bytes per user")
    ax.set_title(f"State per user, {runs[0]['events_per_user']:.1f} events each")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    exit_on_sigterm()  # the broker and jobs it starts stop with it
    parser = argparse.ArgumentParser(prog="python -m bench.state", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="10000,100000",
                        help="comma-separated user counts, one run each")
    parser.add_argument("--events-per-user", type=positive_int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-bench-state-"))
    results: dict[str, Any] = {"command": "python -m bench.state " + " ".join(sys.argv[1:]),
                               "machine": machine(), "runs": []}
    for users in (int(u) for u in args.users.split(",") if u):
        results["runs"].append(measure(root, users, args.events_per_user))
    path = write_results("state", results)
    plot(results, RESULTS / "state-latest.png")
    print_table(results)
    print(f"\nwrote {path} and {RESULTS / 'state-latest.png'}")


if __name__ == "__main__":
    main()
