"""The Python work of the per-user path (quality and user operators), in one process, on the
events of a throughput backlog: what the job's logic costs without Flink. In thread mode every
Python operator of the job shares one interpreter (one GIL), so this bounds the job's
throughput from above however cheap the framework gets.

Each event takes the user step (userstep/step.py) as the operators do: the quality state read,
checked and written (pickled, as in RocksDB), the user state read, learned and written, and,
as when the user's last publication is a second old (every event of the backlog benchmark's
users), the publication: the profile message, the segment model, the candidate pool and the
list.

  python -m bench.user_work --events 30000 --users 2000
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from reco.arguments import positive_int
from reco.config import Settings
from reco.events import Event
from reco.keys import POPULAR_LIST, category_key
from reco.simulator import ShopperSimulation, SimConfig
from userstep.step import Shared, UserStep

STEPS = ("check", "state", "learn", "publish")


def top_lists(events: Iterable[Event], n: int) -> dict[str, Any]:
    """Per-category and popular top lists (log2 counts) from the events, as the job's
    broadcast would hold them."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        if event.item_id:
            counts[category_key(event.category or "")][event.item_id] += 1
            counts[POPULAR_LIST][event.item_id] += 1
    return {key: [(item, math.log2(c)) for item, c in counter.most_common(n)]
            for key, counter in counts.items()}


def user_work(events: list[Event], settings: Settings,
              each: Callable[[Event, float], None] | None = None) -> dict[str, Any]:
    """Microseconds per event of each part of the user step (userstep/step.py), with the
    states pickled between events as in RocksDB, and their total; ``each`` is told every
    event's seconds."""
    step = UserStep(settings)
    shared = Shared(top_lists(events, settings.category_top_n).get)
    quality_state: dict[str, bytes] = {}
    user_state: dict[str, bytes] = {}
    spent = dict.fromkeys(STEPS, 0.0)
    clock = time.perf_counter
    for event in events:
        user = event.user_id
        t0 = clock()
        stored = quality_state.get(user)
        checked, quality = step.check(pickle.loads(stored) if stored else None, event)
        quality_state[user] = pickle.dumps(quality)
        t1 = clock()
        stored = user_state.get(user)
        state = pickle.loads(stored) if stored else step.new_state()
        t2 = clock()
        step.learn(state, event, checked)
        t3 = clock()
        out = step.publish(state, user, shared, event.ts)
        out.profile.SerializeToString()
        t4 = clock()
        user_state[user] = pickle.dumps(state)
        t5 = clock()
        for name, seconds in zip(STEPS, (t1 - t0, t2 - t1 + t5 - t4, t3 - t2, t4 - t3),
                                 strict=True):
            spent[name] += seconds
        if each is not None:
            each(event, t5 - t0)
    per_event = {name: seconds / len(events) * 1e6 for name, seconds in spent.items()}
    total = sum(per_event.values())
    return {"events": len(events), "us_per_event": per_event, "total_us_per_event": total,
            "ceiling_events_per_s": 1e6 / total}


def simulated(limit: int, run_id: str = "work", **config: Any) -> list[Event]:
    """The first ``limit`` events of simulated shoppers (seed 7, ``config`` for SimConfig)."""
    sim = ShopperSimulation(SimConfig(seed=7, run_id=run_id, **config))
    return [e for _, e in zip(range(limit), sim.events(), strict=False)]


def backlog_events(users: int, events: int) -> list[Event]:
    """The events bench/backlog.py preloads for the throughput runs (same simulation)."""
    return simulated(events, n_users=users)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.user_work", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_int, default=30_000)
    parser.add_argument("--users", type=positive_int, default=2_000)
    args = parser.parse_args()
    result = user_work(backlog_events(args.users, args.events), Settings())
    for step, us in result["us_per_event"].items():
        print(f"{step:16s} {us:7.1f} us/event")
    print(f"{'total':16s} {result['total_us_per_event']:7.1f} us/event: at most "
          f"{result['ceiling_events_per_s']:.0f} events/s in one interpreter")


if __name__ == "__main__":
    main()
