"""Freshness (an event produced -> its user's profile served over gRPC) with the upserts
(recommendations, profiles) written exactly-once, visible at each checkpoint's commit, and
at-least-once, visible at once (``upserts_at_least_once``, the default), one after the other
in one run on the same machine, at the same background rates: of a probe user's first event
and of her follow-up within two publication intervals (bench/serving_probes.py).
``--checkpoint-intervals`` runs exactly-once once per interval (an exactly-once output waits
for the commit of the next checkpoint).
Writes bench/results/freshness-<time>.json and freshness-latest.png.

  python -m bench.freshness --rates 200,500 --probes 60
  python -m bench.freshness --checkpoint-intervals 1000,500,250 --no-at-least-once
  python -m bench.freshness --profile-intervals 1000,250 --no-exactly-once
  python -m bench.freshness --live-lags 500,0 --no-exactly-once
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.backlog import settings_for
from bench.common import RESULTS, machine, process_cpu_s, progress, write_results
from bench.serving_probes import freshness
from infra.client import RecoClient
from infra.flink_rest import job_checkpoints
from infra.processes import exit_on_sigterm
from infra.stack import Stack, local_kafka
from reco.arguments import counts, positive_int, positive_ints
from reco.config import Settings
from reco.topics import ensure_topics


def modes(intervals: list[int], at_least_once: bool, profile_intervals: list[int] | None = None,
          exactly_once: bool = True, live_lags: list[int] | None = None
          ) -> dict[str, dict[str, Any]]:
    """The runs by name, each with its settings: exactly-once at every checkpoint interval
    (named by it when there are several), then at-least-once at the configured checkpoint
    interval, every publication interval (``profile_min_interval_ms``) and every live lag
    (``profile_live_lag_ms``), named by those with several values.

    >>> list(modes([1000], True)), list(modes([1000, 250], False))
    (['exactly-once', 'at-least-once'], ['exactly-once 1000 ms', 'exactly-once 250 ms'])
    >>> list(modes([1000], True, [1000, 250], exactly_once=False))
    ['at-least-once, publish 1000 ms', 'at-least-once, publish 250 ms']
    >>> list(modes([1000], True, exactly_once=False, live_lags=[0, 500]))
    ['at-least-once, live 0 ms', 'at-least-once, live 500 ms']
    """
    defaults = Settings()
    named = {(f"exactly-once {ms} ms" if len(intervals) > 1 else "exactly-once"):
             {"upserts_at_least_once": False, "checkpoint_interval_ms": ms}
             for ms in intervals} if exactly_once else {}
    publish = profile_intervals or [defaults.profile_min_interval_ms]
    lags = live_lags or [defaults.profile_live_lag_ms]
    for ms in publish if at_least_once else ():
        for lag in lags:
            name = "at-least-once" + (f", publish {ms} ms" if len(publish) > 1 else "") \
                + (f", live {lag} ms" if len(lags) > 1 else "")
            named[name] = {"upserts_at_least_once": True,
                           "checkpoint_interval_ms": defaults.checkpoint_interval_ms,
                           "profile_min_interval_ms": ms, "profile_live_lag_ms": lag}
    return named


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, runs in results["modes"].items():
        rates = [r["rate"] for r in runs]
        ax.plot(rates, [r["p50_ms"] for r in runs], marker="o", label=f"{mode} p50")
        ax.plot(rates, [r["p99_ms"] for r in runs], marker="x", linestyle="--",
                label=f"{mode} p99")
        if all("follow_up" in r for r in runs):
            ax.plot(rates, [r["follow_up"]["p99_ms"] for r in runs], marker="^",
                    linestyle=":", label=f"{mode} p99, follow-up events")
    ax.axhline(1000, color="grey", linewidth=0.8)
    ax.set_xlabel("background events/s")
    ax.set_ylabel("event -> served profile (ms)")
    ax.legend(fontsize=8)
    fig.suptitle(f"freshness, {results['machine']['cores']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _with_job_cpu(stack: Stack, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()``'s result with the job's CPU (its driver and JVM) per background event while
    it ran: what the job spends at that rate (the probes' few events are counted in it)."""
    pid = stack.job.pid()
    before = process_cpu_s(pid, with_children=True) if pid else None
    result = run()
    if pid and before is not None and result.get("background_events"):
        spent = process_cpu_s(pid, with_children=True) - before
        result["job_cpu_us_per_event"] = round(spent / result["background_events"] * 1e6, 1)
    return result


def summary(results: dict[str, Any]) -> Iterator[str]:
    """The printed summary: a line per mode, rate and kind of probe event, then each mode's
    checkpoint durations."""
    nan = float("nan")
    for mode, runs in results["modes"].items():
        for r in runs:
            load = (f"({r.get('background_events_per_s', 0):.0f} sent, job "
                    f"{r.get('job_cpu_us_per_event', nan):.0f} us CPU per event)")
            for kind, d, lost, why in (
                    ("first", r, r.get("not_served"), ": behind the load"),
                    ("follow-up", r.get("follow_up"), r.get("follow_ups_not_served"), "")):
                if d:
                    yield (f"{mode:22s} at {r['rate']:5d} ev/s {load}, {kind:9s}: p50 "
                           f"{d['p50_ms']:6.0f} ms  p99 {d['p99_ms']:6.0f} ms  max "
                           f"{d['max_ms']:6.0f} ms ({d['probes']} probes)"
                           + (f", {lost} not served{why}" if lost else ""))
    for mode, took in results.get("checkpoint_ms", {}).items():
        if took:
            yield (f"{mode:22s} checkpoints: p50 {took.get('p50', nan):.0f} ms, p99 "
                   f"{took.get('p99', nan):.0f} ms, max {took.get('max', 0):.0f} ms")


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.freshness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=positive_ints, default=[200, 500],
                        help="background events/s, comma-separated (default 200,500)")
    parser.add_argument("--probes", type=positive_int, default=60, help="probes per rate")
    parser.add_argument("--warmup", type=positive_int, default=20,
                        help="probes sent and not counted first")
    parser.add_argument("--checkpoint-intervals", type=positive_ints,
                        default=[Settings().checkpoint_interval_ms],
                        help="checkpoint intervals (ms) to run exactly-once at, comma-separated "
                             "(default: the configured one)")
    parser.add_argument("--no-at-least-once", dest="at_least_once", action="store_false",
                        help="leave out the run with at-least-once upserts")
    parser.add_argument("--no-exactly-once", dest="exactly_once", action="store_false",
                        help="leave out the runs with exactly-once upserts")
    parser.add_argument("--live-lags", type=counts, default=None,
                        help="live lags (profile_live_lag_ms; 0: the interval always holds) to "
                             "run at-least-once at, comma-separated (default: the configured "
                             "one)")
    parser.add_argument("--profile-intervals", type=positive_ints, default=None,
                        help="publication intervals (profile_min_interval_ms) to run "
                             "at-least-once at, comma-separated (default: the configured one)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-freshness-"))
    results: dict[str, Any] = {"command": "python -m bench.freshness " + " ".join(sys.argv[1:]),
                               "machine": machine(), "modes": {}}
    with local_kafka(root) as kafka:
        for mode, changes in modes(args.checkpoint_intervals, args.at_least_once,
                                    args.profile_intervals, args.exactly_once,
                                    args.live_lags).items():
            name = re.sub(r"[^a-z0-9]", "", mode)  # topic, job and folder names
            # topics of its own: the second job must not read the first one's events
            topics: dict[str, Any] = {f.name: f"{name}.{f.default}"
                                      for f in dataclasses.fields(Settings)
                                      if f.name.startswith("topic_")
                                      and f.name != "topic_partitions"}
            settings = dataclasses.replace(settings_for(kafka, root, name),
                                           store_path=str(root / name / "store"),
                                           event_topic_prefix=f"{name}.events.",
                                           log_impressions=False, **changes, **topics)
            ensure_topics(settings)
            stack = Stack(settings)
            try:
                stack.start_job(fresh=True)
                stack.start_server()
                with RecoClient(settings.grpc_addr, timeout_s=5) as client:
                    # a job just started compiles and warms its operators on its first
                    # events: probes then would time the warm-up, not the path
                    progress(f"{mode}: warming up for {args.warmup} probes")
                    freshness(settings, client, min(args.rates), args.warmup)
                    runs = []
                    for rate in args.rates:
                        progress(f"{mode}: {args.probes} probes at {rate} events/s")
                        runs.append(_with_job_cpu(stack, functools.partial(
                            freshness, settings, client, rate, args.probes)))
                results["modes"][mode] = runs
                # what an exactly-once output waits for besides the interval
                stats = job_checkpoints(settings.flink_rest_port) or {}
                results.setdefault("checkpoint_ms", {})[mode] = \
                    (stats.get("summary") or {}).get("end_to_end_duration")
                results.setdefault("settings", {})[mode] = changes
            finally:
                stack.down(only_started=True)
    path = write_results("freshness", results)
    plot(results, RESULTS / "freshness-latest.png")
    print("\n".join(summary(results)))
    print(f"wrote {path} and {RESULTS / 'freshness-latest.png'}")


if __name__ == "__main__":
    main()
