"""The prequential loop of ``reco eval``: each method asked for its top 20 before each target
event, scored, then taught the event; in one process, or with the methods spread over worker
processes (``workers``). The methods learn independently of one another, so each worker
replays the whole stream for its share of them and the results are those of one process:
the same ranks for every target, hence the same metrics to the last digit. Only the
segment a target counts in is the system's (its RFM segment of the user at that time): the
worker that holds the system records it per target and the other workers' targets are
grouped by it afterwards.

>>> history_group(0), history_group(3), history_group(40)
(None, '1-4 events', '5+ events')
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from evaluation.metrics import KS, Metrics
from evaluation.report import progress
from reco.events import Event

DAY_MS = 86_400_000
SEGMENT, HISTORY = "segment:", "history:"
# the user's events before the target (0 is the "new" group): bounds of the history groups
HISTORY_GROUPS = ((1, "1-4 events"), (5, "5+ events"))


class Method(Protocol):
    name: str

    def learn(self, event: Event) -> None: ...
    def recommend(self, user: str, k: int, now_ms: int) -> list[str]: ...


def history_group(prior_events: int) -> str | None:
    """The history group of a user with ``prior_events`` earlier events (None: a new user)."""
    name = None
    for low, label in HISTORY_GROUPS:
        if prior_events >= low:
            name = label
    return name


# per method: its metrics and its daily (hits, targets) by day
Scores = tuple[dict[str, Metrics], dict[str, dict[int, list[int]]]]


def score(events: Sequence[Event], methods: Sequence[Method], targets: set[str],
          segment_of: Callable[[str, int], str] | None = None,
          scored: set[str] | None = None, show_progress: bool = True
          ) -> tuple[Scores, list[str]]:
    """Asks, scores, then learns, event by event (progress on stderr). Each target also counts
    in the group of the user's history length and, given ``segment_of`` (user, time -> name),
    in the user's segment at that time (also returned, target by target). Given ``scored``
    (event ids), only those events are targets; the others are learned only."""
    metrics = {m.name: Metrics() for m in methods}
    daily: dict[str, dict[int, list[int]]] = {m.name: defaultdict(lambda: [0, 0])
                                             for m in methods}
    segments: list[str] = []
    prior: Counter[str] = Counter()
    started = time.monotonic()
    step = max(1, len(events) // 20)
    for n, event in enumerate(events, 1):
        if event.event_type in targets and event.item_id and (
                scored is None or event.event_id in scored):
            day = event.ts // DAY_MS
            history = history_group(prior[event.user_id])
            groups = [HISTORY + history] if history else []
            if segment_of is not None:
                segments.append(segment_of(event.user_id, event.ts))
                groups.append(SEGMENT + segments[-1])
            for method in methods:
                recs = method.recommend(event.user_id, max(KS), event.ts)
                metrics[method.name].add(recs, event.item_id, prior[event.user_id] > 0, groups)
                daily[method.name][day][0] += event.item_id in recs[:10]
                daily[method.name][day][1] += 1
        for method in methods:
            method.learn(event)
        prior[event.user_id] += 1
        if show_progress and (n % step == 0 or n == len(events)):
            rate = n / (time.monotonic() - started)
            progress(f"  {n / len(events):4.0%}  {n}/{len(events)} events, {rate:,.0f}/s, "
                     f"eta {(len(events) - n) / rate:,.0f} s")
    return (metrics, {name: dict(d) for name, d in daily.items()}), segments


# what the forked workers read (set before they start: fork copies it, nothing is pickled)
_WORK: dict[str, Any] = {}
# what the report reads of a method after its replay (the system's requests and the mixes its
# policy chose): copied back from the worker that replayed it
LOOP_FIELDS = ("requests", "mixes")


def _score_share(share: list[int]
                 ) -> tuple[Scores, list[str], dict[int, dict[str, Any]]]:
    work = _WORK
    methods = [work["methods"][i] for i in share]
    with_system = 0 in share
    scores, segments = score(work["events"], methods, work["targets"],
                             work["segment_of"] if with_system else None, work["scored"],
                             show_progress=with_system)
    loops = {i: {name: getattr(work["methods"][i], name) for name in LOOP_FIELDS}
             for i in share if all(hasattr(work["methods"][i], n) for n in LOOP_FIELDS)}
    return scores, segments, loops


def shares(n_methods: int, workers: int) -> list[list[int]]:
    """The methods' indices per worker: the system (index 0, the costliest) alone, the
    baselines spread over the other workers.

    >>> shares(10, 3)
    [[0], [1, 3, 5, 7, 9], [2, 4, 6, 8]]
    >>> shares(3, 1), shares(1, 4)
    ([[0, 1, 2]], [[0]])
    """
    if workers <= 1 or n_methods <= 1:
        return [list(range(n_methods))]
    others = min(workers - 1, n_methods - 1)
    return [[0]] + [list(range(1 + w, n_methods, others)) for w in range(others)]


def score_in_parallel(events: Sequence[Event], methods: Sequence[Method], targets: set[str],
                      segment_of: Callable[[str, int], str] | None, scored: set[str] | None,
                      workers: int) -> Scores:
    """``score`` with the methods spread over ``workers`` forked processes; the same result."""
    parts = shares(len(methods), workers)
    if len(parts) == 1:
        return score(events, methods, targets, segment_of, scored)[0]
    _WORK.update(events=events, methods=methods, targets=targets, segment_of=segment_of,
                 scored=scored)
    try:
        with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
            results = pool.map(_score_share, parts, chunksize=1)
    finally:
        _WORK.clear()
    metrics: dict[str, Metrics] = {}
    daily: dict[str, dict[int, list[int]]] = {}
    segments = results[0][1]  # the system's worker's
    for n, ((part_metrics, part_daily), _, loops) in enumerate(results):
        for found in part_metrics.values() if n and segments else ():
            _group_by_segment(found, segments)
        metrics.update(part_metrics)
        daily.update(part_daily)
        for i, fields in loops.items():
            for name, value in fields.items():
                setattr(methods[i], name, value)
    order = [m.name for m in methods]
    return {name: metrics[name] for name in order}, {name: daily[name] for name in order}


def _group_by_segment(metrics: Metrics, segments: list[str]) -> None:
    """Adds the segment groups to a worker's metrics, target by target, as one process would
    have counted them."""
    for rank, segment in zip(metrics.ranks["all"], segments, strict=True):
        metrics.ranks.setdefault(SEGMENT + segment, []).append(rank)
