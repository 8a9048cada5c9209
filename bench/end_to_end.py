"""End-to-end benchmark on the real stack: throughput against a bare PyFlink job in the same run,
Flink state per user (from the job's checkpoints), event-to-gRPC freshness, and lookup latency
against a raw store get. Prints a table, writes JSON and a PNG under bench/results.
`python -m bench.end_to_end --help`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from bench.bare_job import OUTPUT_TOPIC
from bench.common import RESULTS, machine, progress, write_results
from bench.serving_probes import measure_serving, now_ms
from reco.config import Settings, settings_env
from reco.events import Event
from reco.processes import ManagedProcess, flink_job_running, free_port, wait_until
from reco.producer import EventProducer
from reco.simulator import ShopperSimulation, SimConfig
from reco.stack import LocalKafka
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb


def settings_for(kafka: LocalKafka, root: Path, name: str) -> Settings:
    return Settings(kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
                    flink_rest_port=free_port(), stack_dir=str(root / name),
                    checkpoint_dir=str(root / name / "ck"), store_path=str(root / "store"),
                    job_name=f"bench-{name}", consumer_group=f"bench-{name}-{uuid.uuid4().hex}",
                    restart_attempts=0)


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


def preload(settings: Settings, users: int, limit: int) -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=users, seed=7, run_id=f"b{now_ms()}"))
    events = [dataclasses.replace(e, ts=now_ms()) for _, e in zip(range(limit), sim.events(),
                                                                   strict=False)]
    with EventProducer(settings) as producer:
        producer.send_all(events)
    return events


def _read_from_start(settings: Settings, topic: str) -> KafkaConsumer:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                             isolation_level="read_committed", auto_offset_reset="earliest")
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return consumer


def _rate(events: int, first: int | None, last: int | None) -> dict[str, float]:
    seconds = ((last or 0) - (first or 0)) / 1000
    return {"events": events, "seconds": seconds,
            "events_per_s": events / seconds if seconds > 0 else float("nan")}


def drain(settings: Settings, topic: str, expected: int, timeout_s: float) -> dict[str, float]:
    """Reads ``topic`` (one record per event) from the start until ``expected`` records: the rate
    between the first and the last record's timestamp (set by the job as it wrote them)."""
    consumer = _read_from_start(settings, topic)
    count, first, last = 0, None, None
    deadline = time.monotonic() + timeout_s
    while count < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            count += len(records)
            stamps = [r.timestamp for r in records]
            first = min(stamps + ([first] if first else []))
            last = max(stamps + ([last] if last else []))
    consumer.close()
    return _rate(count, first, last)


def drain_profiles(settings: Settings, events: list[Event], timeout_s: float) -> dict[str, float]:
    """Reads the profiles until every user's shows all their events (learned or filtered):
    the rate between the first profile and the one completing the last user. Profiles are
    published at most once per interval per user, so the end can lag by that interval."""
    expected = Counter(e.user_id for e in events)
    done: set[str] = set()
    consumer = _read_from_start(settings, settings.topic_user_profiles)
    first, last = None, None
    deadline = time.monotonic() + timeout_s
    while len(done) < len(expected) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                first = record.timestamp if first is None else min(first, record.timestamp)
                profile = pb.UserProfile.FromString(record.value)
                user = profile.user_id
                if user not in done and \
                        profile.event_count + profile.filtered_events >= expected[user]:
                    done.add(user)
                    last = record.timestamp if last is None else max(last, record.timestamp)
    consumer.close()
    if len(done) < len(expected):
        progress(f"    only {len(done)} of {len(expected)} users complete before the timeout")
    return _rate(len(events), first, last)


def run_job(settings: Settings, module: str, run_dir: Path) -> ManagedProcess:
    job = ManagedProcess(module.rsplit(".", 1)[-1], [sys.executable, "-m", module], run_dir,
                         {**os.environ, **settings_env(settings)})
    job.start()
    wait_until(lambda: flink_job_running(settings.flink_rest_port), 240, module, job.alive,
               job.log_path)
    return job


def checkpoint_state_bytes(settings: Settings) -> int | None:
    """Full size of the job's latest completed checkpoint (all keyed state)."""
    base = f"http://127.0.0.1:{settings.flink_rest_port}"
    try:
        with urllib.request.urlopen(base + "/jobs/overview", timeout=2) as reply:
            job = json.load(reply)["jobs"][0]["jid"]
        with urllib.request.urlopen(f"{base}/jobs/{job}/checkpoints", timeout=2) as reply:
            completed = (json.load(reply).get("latest") or {}).get("completed") or {}
    except (OSError, ValueError, KeyError, IndexError):
        return None
    size = completed.get("state_size") or completed.get("full_size")
    return int(size) if size else None


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
    rates = [f["rate"] for f in results["freshness"]]
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        middle.plot(rates, [f[q] for f in results["freshness"]], marker="o", label=q[:3])
    middle.set_xscale("log")
    middle.set_xlabel("background events/s")
    middle.set_ylabel("event -> served profile (ms)")
    middle.set_title("freshness")
    middle.legend()
    lk = results["lookup"]
    right.bar(["store get p50", "gRPC p50", "gRPC p99"],
              [lk["store_get_p50_us"], lk["p50_us"], lk["p99_us"]], color="#2f855a")
    right.set_ylabel("microseconds")
    right.set_title(f"lookup, closed loop: {lk['requests_per_s']:.0f} req/s")
    fig.suptitle(f"end-to-end benchmark on {results['machine']['cores']} cores "
                 f"({results['machine']['cpu']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events for throughput")
    parser.add_argument("--users", type=int, default=2_000, help="simulated users")
    parser.add_argument("--rates", default="100,1000,sustainable",
                        help="freshness background rates; 'sustainable' is 80%% of the full "
                             "job's measured throughput")
    parser.add_argument("--probes", type=int, default=20, help="freshness probes per rate")
    parser.add_argument("--lookup-seconds", type=float, default=5.0)
    parser.add_argument("--no-scaling", dest="scaling", action="store_false",
                        help="skip the full job at parallelism 1")
    parser.add_argument("--lookup-rates", default="1000,2000,4000",
                        help="open-loop request rates (empty: none)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-bench-"))
    kafka = LocalKafka(root / "kafka", free_port(), free_port())
    results: dict[str, Any] = {"command": "python -m bench.end_to_end " + " ".join(sys.argv[1:]),
                               "machine": machine()}
    progress(f"starting Kafka in {root}")
    kafka.start()
    try:
        full = settings_for(kafka, root, "full")
        ensure_topics(full)
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        admin.create_topics([NewTopic(OUTPUT_TOPIC, full.topic_partitions, 1)])
        admin.close()
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
            results["throughput"][name] = (
                drain(settings, OUTPUT_TOPIC, len(events), 600) if name == "bare"
                else drain_profiles(settings, events, 600))
            progress(f"{name}: {results['throughput'][name]['events_per_s']:.0f} events/s")
            if name == "full":
                time.sleep(3 * settings.checkpoint_interval_ms / 1000)
                n_users = len({e.user_id for e in events})
                state = checkpoint_state_bytes(settings)
                results["state"] = {"users": n_users, "checkpoint_bytes": state,
                                    "bytes_per_user": state / n_users if state else None}
            if name == "full":
                measure_serving(settings, events, args, results, job)
            job.stop()
        t = results["throughput"]
        t["ratio"] = t["full"]["events_per_s"] / t["bare"]["events_per_s"]
        t["skeleton_ratio"] = t["skeleton"]["events_per_s"] / t["bare"]["events_per_s"]
        t["feature_engine_cost"] = 1 - t["full"]["events_per_s"] / t["skeleton"]["events_per_s"]
        if "full-p1" in t:
            t["scaling_p2_over_p1"] = t["full"]["events_per_s"] / t["full-p1"]["events_per_s"]
    finally:
        kafka.stop()
    path = write_results("end_to_end", results)
    plot(results, RESULTS / "end_to_end-latest.png")
    print_table(results)
    print(f"\nwrote {path} and {RESULTS / 'end_to_end-latest.png'}")


def print_table(results: dict[str, Any]) -> None:
    t, lk = results["throughput"], results["lookup"]
    print(f"\nmachine: {results['machine']}")
    print(f"throughput  bare {t['bare']['events_per_s']:8.0f} ev/s   skeleton "
          f"{t['skeleton']['events_per_s']:8.0f} ev/s   full "
          f"{t['full']['events_per_s']:8.0f} ev/s   full/bare {t['ratio']:.2f}")
    print(f"            the feature engine costs {t['feature_engine_cost']:.0%} of the "
          f"skeleton's throughput (full/skeleton {1 - t['feature_engine_cost']:.2f})")
    if "full-p1" in t:
        print(f"scaling     full job at parallelism 1: {t['full-p1']['events_per_s']:.0f} ev/s, "
              f"at 2: {t['full']['events_per_s']:.0f} ev/s (x{t['scaling_p2_over_p1']:.2f} on "
              f"{results['machine']['cores']} cores shared with Kafka and the benchmark)")
    for f in results["freshness"]:
        print(f"freshness   at {f['rate']:5d} ev/s: p50 {f['p50_ms']:6.0f} ms  p95 "
              f"{f['p95_ms']:6.0f} ms  p99 {f['p99_ms']:6.0f} ms  ({f['probes']} probes)")
    st = results.get("state", {})
    if st.get("bytes_per_user"):
        print(f"state       {st['checkpoint_bytes']} bytes in the checkpoint for {st['users']} "
              f"users: {st['bytes_per_user']:.0f} bytes per user (all operators)")
    print(f"lookup      {lk['requests_per_s']:.0f} req/s closed loop, p50 {lk['p50_us']:.0f} us, "
          f"p99 {lk['p99_us']:.0f} us, p99.9 {lk['p999_us']:.0f} us; store get p50 "
          f"{lk['store_get_p50_us']:.1f} us")
    for run in results.get("lookup_open_loop", []):
        print(f"open loop   {run['rate']:6.0f} req/s asked, {run['achieved_per_s']:6.0f} done: "
              f"p50 {run['p50_us']:.0f} us, p99 {run['p99_us']:.0f} us, p99.9 "
              f"{run['p999_us']:.0f} us, {run['errors']} errors")
    loop, cov = results.get("policy_loop"), results.get("coverage")
    if loop:
        print(f"loop        click -> policy update served: p50 {loop['p50_ms']:.0f} ms, max "
              f"{loop['max_ms']:.0f} ms ({loop['learned']} of {loop['probes']} probes)")
    if cov:
        print(f"coverage    top-{cov['k']} lists of {cov['users']} users cover "
              f"{cov['coverage']:.1%} of {cov['catalogue']} items")


if __name__ == "__main__":
    main()
