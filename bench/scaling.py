"""The full job's throughput at several parallelisms, one after the other in one run on the
same preloaded backlog (simulated events on topics with as many partitions as the highest
parallelism): events/s, CPU per event (the job's JVM and the broker, from /proc) and the
efficiency (rate at p over p times the rate at 1), with the machine's core count. Writes
bench/results/scaling-<time>.json and scaling-latest.png.

  python -m bench.scaling --events 20000 --parallelism 1,2,4

With ``--cluster`` each parallelism runs on a standalone cluster of its own instead of the
MiniCluster: as many TaskManagers as the parallelism, one slot each, so every subtask has a
JVM and a Python interpreter of its own (CPU per event then counts every cluster process).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.backlog import cpu_by_part, drain_profiles, preload, run_job, settings_for
from bench.common import RESULTS, machine, process_cpu_s, progress, write_results
from infra.cluster import FlinkCluster
from infra.processes import exit_on_sigterm, free_port
from infra.stack import local_kafka
from reco.arguments import positive_int, positive_ints
from reco.config import Settings
from reco.events import Event
from reco.topics import ensure_topics


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    ps = [r["parallelism"] for r in runs]
    left.plot(ps, [r["events_per_s"] for r in runs], marker="o", label="measured")
    left.plot(ps, [runs[0]["events_per_s"] * p for p in ps], linestyle="--", label="linear")
    left.set_xlabel("parallelism")
    left.set_ylabel("events/s")
    left.legend()
    right.plot(ps, [r["cpu_us_per_event"] for r in runs], marker="o")
    right.set_xlabel("parallelism")
    right.set_ylabel("CPU µs per event (job + broker)")
    fig.suptitle(f"the full job's scaling on {results['machine']['cores']} cores "
                 f"({results['where']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def measure_on_minicluster(settings: Settings, events: list[Event], root: Path,
                           broker: int | None) -> dict[str, Any]:
    job = run_job(settings, "jobs.recommend", root)
    try:
        read = functools.partial(drain_profiles, settings, events, 900)
        measured = cpu_by_part(read, job, broker)
    finally:
        job.stop()
    cpu = measured["cpu_us_per_event"]
    return {"events_per_s": measured["events_per_s"], "job": cpu["job"], "broker": cpu["broker"]}


def measure_on_cluster(settings: Settings, events: list[Event], broker: int | None
                       ) -> dict[str, Any]:
    settings = dataclasses.replace(settings, flink_rpc_port=free_port(), cluster_task_slots=1,
                                   cluster_taskmanagers=settings.job_parallelism)
    cluster = FlinkCluster(settings)
    try:
        cluster.up()
        cluster.deploy(fresh=True)
        pids = cluster.pids()
        before = (sum(process_cpu_s(p) for p in pids), process_cpu_s(broker) if broker else 0.0)
        measured = drain_profiles(settings, events, 900)
        per_event = 1e6 / max(1, measured["events"])
        return {"events_per_s": measured["events_per_s"],
                "job": (sum(process_cpu_s(p) for p in pids) - before[0]) * per_event,
                "broker": ((process_cpu_s(broker) - before[1]) * per_event) if broker else 0.0}
    finally:
        cluster.down()


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_int, default=20_000)
    parser.add_argument("--users", type=positive_int, default=2_000)
    parser.add_argument("--parallelism", type=positive_ints, default=[1, 2, 4],
                        help="comma-separated parallelisms (default 1,2,4)")
    parser.add_argument("--cluster", action="store_true",
                        help="a standalone cluster per parallelism (a TaskManager per subtask) "
                             "instead of the MiniCluster")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-scaling-"))
    results: dict[str, Any] = {"command": "python -m bench.scaling " + " ".join(sys.argv[1:]),
                               "machine": machine(), "runs": [],
                               "where": "standalone cluster" if args.cluster else "MiniCluster"}
    with local_kafka(root) as kafka:
        base = dataclasses.replace(settings_for(kafka, root, "scaling"),
                                   topic_partitions=max(args.parallelism))
        ensure_topics(base)
        progress(f"preloading {args.events:,} simulated events")
        events = preload(base, args.users, args.events)
        for p in args.parallelism:
            name = f"p{p}"
            settings = dataclasses.replace(
                settings_for(kafka, root, name), job_parallelism=p,
                topic_partitions=max(args.parallelism),
                topic_user_profiles=f"{name}.user_profiles",
                topic_recommendations=f"{name}.recommendations")
            ensure_topics(settings)
            progress(f"parallelism {p}: reading the backlog")
            broker = kafka.process.pid()
            measured = (measure_on_cluster(settings, events, broker) if args.cluster
                        else measure_on_minicluster(settings, events, root / name, broker))
            results["runs"].append({"parallelism": p,
                                    "events_per_s": round(measured["events_per_s"]),
                                    "cpu_us_per_event": round(measured["job"]
                                                              + measured["broker"]),
                                    "job_cpu_us_per_event": round(measured["job"])})
            progress(f"parallelism {p}: {measured['events_per_s']:.0f} events/s")
    first = results["runs"][0]
    for run in results["runs"]:
        run["efficiency"] = round(run["events_per_s"] / (first["events_per_s"]
                                                         * run["parallelism"]
                                                         / first["parallelism"]), 2)
    name = "scaling-cluster" if args.cluster else "scaling"
    path = write_results(name, results)
    plot(results, RESULTS / f"{name}-latest.png")
    for run in results["runs"]:
        print(f"parallelism {run['parallelism']}: {run['events_per_s']:,} events/s, "
              f"{run['cpu_us_per_event']:,} µs CPU per event, efficiency {run['efficiency']}")
    print(f"wrote {path} and {RESULTS / f'{name}-latest.png'}")


if __name__ == "__main__":
    main()
