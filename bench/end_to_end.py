"""End-to-end benchmark on the real stack: throughput against a bare PyFlink job in the same run,
Flink state per user (from the job's checkpoints), event-to-gRPC freshness, and lookup latency
against a raw store get. Prints a table, writes JSON and a PNG under bench/results.
`python -m bench.end_to_end --help`."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic

from bench.backlog import (
    backlog,
    checkpoint_state_bytes,
    cpu_by_part,
    drain,
    drain_profiles,
    preload,
    run_job,
    send_backlog,
    settings_for,
)
from bench.bare_job import OUTPUT_TOPIC
from bench.common import RESULTS, machine, progress, write_results
from bench.lookups import add_load_options, draw_lookups, lookup_lines
from bench.serving_probes import measure_serving
from bench.user_work import user_work
from infra.processes import exit_on_sigterm
from infra.stack import local_kafka
from reco.arguments import positive, positive_int
from reco.config import Settings
from reco.history import FORMATS
from reco.topics import ensure_topics


def own_topics(settings: Settings, name: str, feature_engine: bool) -> Settings:
    """A job of the comparison (the skeleton without its feature engine, or the full job at
    parallelism 1) writing its lists and profiles to topics of its own (the preloaded events
    have no dead letters; the skeleton filters nothing)."""
    outputs = ("topic_recommendations", "topic_user_profiles", "topic_item_features",
               "topic_policy", "topic_segments")
    renamed: dict[str, Any] = {topic: f"{name}.{getattr(settings, topic)}" for topic in outputs}
    return dataclasses.replace(
        settings, feature_engine=feature_engine,
        job_parallelism=1 if name.endswith("-p1") else settings.job_parallelism, **renamed)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4))
    t = results["throughput"]
    left.bar(["bare job", "skeleton", "full job"],
             [t[name]["events_per_s"] for name in ("bare", "skeleton", "full")],
             color=["#999999", "#90cdf4", "#2b6cb0"])
    left.set_title(f"throughput (full/bare {t['ratio']:.2f}, "
                   f"full/skeleton {1 - t['feature_engine_cost']:.2f})")
    left.set_ylabel("events/s")
    fresh = sorted(results["freshness"], key=lambda f: f["rate"])
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        middle.plot([f["rate"] for f in fresh], [f[q] for f in fresh], marker="o", label=q[:3])
    middle.set_xscale("log")
    middle.set_xlabel("background events/s")
    middle.set_ylabel("event -> served profile (ms)")
    middle.set_title("freshness")
    middle.legend()
    draw_lookups(right, results["lookup"])
    right.set_title("GetRecommendations")
    fig.suptitle(f"end-to-end benchmark on {results['machine']['cores']} cores "
                 f"({results['machine']['cpu']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    exit_on_sigterm()  # the broker and jobs it starts stop with it
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__)
    parser.add_argument("file", nargs="?",
                        help="a history file whose first --events make the backlog (default: "
                             "the simulation); the results go to end_to_end-<format>-latest.json")
    parser.add_argument("--format", default="csv", choices=FORMATS)
    parser.add_argument("--keep-times", action="store_true",
                        help="with a file: send its events with their own times (as reco import "
                             "does), not stamped now")
    parser.add_argument("--events", type=positive_int, default=20_000, help="events for throughput")
    parser.add_argument("--users", type=positive_int, default=2_000, help="simulated users")
    parser.add_argument("--rates", default="100,1000,sustainable",
                        help="freshness background rates; 'sustainable' is 80%% of the full "
                             "job's measured throughput")
    parser.add_argument("--probes", type=positive_int, default=20, help="freshness probes per rate")
    parser.add_argument("--lookup-seconds", type=positive, default=5.0)
    parser.add_argument("--no-scaling", dest="scaling", action="store_false",
                        help="skip the full job at parallelism 1")
    parser.add_argument("--lookup-rates", default="1000,2000,4000",
                        help="open-loop request rates (empty: none)")
    add_load_options(parser)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-bench-"))
    results: dict[str, Any] = {"command": "python -m bench.end_to_end " + " ".join(sys.argv[1:]),
                               "machine": machine()}
    with local_kafka(root) as kafka:
        full = settings_for(kafka, root, "full")
        ensure_topics(full)
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        admin.create_topics([NewTopic(OUTPUT_TOPIC, full.topic_partitions, 1)])
        admin.close()
        if args.file:
            history = backlog(args)  # the file's first --events
            progress(f"preloading the first {len(history):,} events of {args.file}")
            events = send_backlog(full, history, stamp=not args.keep_times)
        else:
            progress(f"preloading {args.events} simulated events")
            events = preload(full, args.users, args.events)
        results["throughput"] = {}
        jobs = [("bare", "bench.bare_job"), ("skeleton", "jobs.recommend")]
        if args.scaling:
            jobs.append(("full-p1", "jobs.recommend"))
        jobs.append(("full", "jobs.recommend"))
        for name, module in jobs:
            settings = settings_for(kafka, root, name)
            if name in ("skeleton", "full-p1"):
                settings = own_topics(settings, name, feature_engine=name != "skeleton")
                ensure_topics(settings)
            progress(f"{name} job: reading the backlog")
            job = run_job(settings, module, root / name)
            read = (functools.partial(drain, settings, OUTPUT_TOPIC, len(events), 600)
                    if name == "bare" else functools.partial(drain_profiles, settings, events, 600))
            results["throughput"][name] = cpu_by_part(read, job, kafka.process.pid())
            progress(f"{name}: {results['throughput'][name]['events_per_s']:.0f} events/s")
            if name == "full":
                time.sleep(3 * settings.checkpoint_interval_ms / 1000)
                n_users = len({e.user_id for e in events})
                state = checkpoint_state_bytes(settings)
                results["state"] = {"users": n_users, "checkpoint_bytes": state,
                                    "bytes_per_user": state / n_users if state else None}
            if name == "full":
                measure_serving(settings, events, args, results, job, kafka.process.pid())
            job.stop()
        t = results["throughput"]
        progress("the per-user path's Python alone, in process, on the same events")
        t["user_work"] = user_work(events, Settings())
        t["ratio"] = t["full"]["events_per_s"] / t["bare"]["events_per_s"]
        t["late_ratio"] = t["full"]["late_events_per_s"] / t["bare"]["late_events_per_s"]
        t["skeleton_ratio"] = t["skeleton"]["events_per_s"] / t["bare"]["events_per_s"]
        t["feature_engine_cost"] = 1 - t["full"]["events_per_s"] / t["skeleton"]["events_per_s"]
        if "full-p1" in t:
            t["scaling_p2_over_p1"] = t["full"]["events_per_s"] / t["full-p1"]["events_per_s"]
    if args.file:
        results["backlog"] = {"file": args.file, "format": args.format, "events": len(events),
                              "event_times": "kept" if args.keep_times else "now"}
    name = f"end_to_end-{args.format}" if args.file else "end_to_end"
    path = write_results(name, results)
    plot(results, RESULTS / f"{name}-latest.png")  # a history's run keeps the simulation's
    print_table(results)
    print(f"\nwrote {path} and {RESULTS / f'{name}-latest.png'}")


def cpu_lines(throughput: dict[str, Any]) -> str:
    """CPU per event of each job's run, by part (bench/backlog.py's cpu_by_part)."""
    lines = ["cpu/event   us of CPU per event while each job read the backlog:"]
    for name in ("bare", "skeleton", "full"):
        cpu = throughput[name].get("cpu_us_per_event")
        if cpu:
            parts = ", ".join(f"{part} {us:.0f}" for part, us in cpu["job_threads"].items())
            lines.append(f"            {name}: job {cpu['job']:.0f} ({parts}); driver "
                         f"{cpu['driver']:.0f}; broker {cpu['broker']:.0f}")
    return "\n".join(lines)


def print_table(results: dict[str, Any]) -> None:
    t = results["throughput"]
    print(f"\nmachine: {results['machine']}")
    print(f"throughput  bare {t['bare']['events_per_s']:8.0f} ev/s   skeleton "
          f"{t['skeleton']['events_per_s']:8.0f} ev/s   full "
          f"{t['full']['events_per_s']:8.0f} ev/s   full/bare {t['ratio']:.2f}")
    print(f"            second half of the backlog (warmed up): bare "
          f"{t['bare']['late_events_per_s']:.0f}, skeleton "
          f"{t['skeleton']['late_events_per_s']:.0f}, full {t['full']['late_events_per_s']:.0f} "
          f"ev/s; full/bare {t['late_ratio']:.2f}")
    print(f"            the feature engine costs {t['feature_engine_cost']:.0%} of the "
          f"skeleton's throughput (full/skeleton {1 - t['feature_engine_cost']:.2f})")
    if "full-p1" in t:
        print(f"scaling     full job at parallelism 1: {t['full-p1']['events_per_s']:.0f} ev/s, "
              f"at 2: {t['full']['events_per_s']:.0f} ev/s (x{t['scaling_p2_over_p1']:.2f} on "
              f"{results['machine']['cores']} cores shared with Kafka and the benchmark)")
    print(cpu_lines(t))
    work = t.get("user_work")
    if work:
        steps = ", ".join(f"{step} {us:.0f}" for step, us in work["us_per_event"].items())
        print(f"python      the per-user path's Python alone, in process, the same events: "
              f"{work['total_us_per_event']:.0f} us/event ({steps}): at most "
              f"{work['ceiling_events_per_s']:.0f} ev/s in one interpreter, "
              f"{work['ceiling_events_per_s'] / t['bare']['events_per_s']:.2f} of the bare job "
              f"({work['ceiling_events_per_s'] / t['bare']['late_events_per_s']:.2f} of it "
              f"warmed up)")
    for f in results["freshness"]:
        print(f"freshness   at {f['rate']:5d} ev/s: p50 {f['p50_ms']:6.0f} ms  p95 "
              f"{f['p95_ms']:6.0f} ms  p99 {f['p99_ms']:6.0f} ms  ({f['probes']} probes)")
    st = results.get("state", {})
    if st.get("bytes_per_user"):
        print(f"state       {st['checkpoint_bytes']} bytes in the checkpoint for {st['users']} "
              f"users: {st['bytes_per_user']:.0f} bytes per user (all operators)")
    print("\n".join(lookup_lines(results["lookup"])))
    loop, cov = results.get("policy_loop"), results.get("coverage")
    if loop:
        print(f"loop        click -> policy update served: p50 {loop['p50_ms']:.0f} ms, max "
              f"{loop['max_ms']:.0f} ms ({loop['learned']} of {loop['probes']} probes)")
    if cov:
        print(f"coverage    top-{cov['k']} lists of {cov['users']} users cover "
              f"{cov['coverage']:.1%} of {cov['catalogue']} items")


if __name__ == "__main__":
    main()
