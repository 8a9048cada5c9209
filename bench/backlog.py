"""A running job over a simulated backlog, for the benchmarks: a broker and settings of their
own, the backlog preloaded into Kafka, the job started, its output drained with the rates
(whole backlog, and its warmed-up second half) and the CPU each part spent per event."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import process_cpu_s, progress, thread_cpu_s
from infra.flink_rest import flink_job_running, job_checkpoints
from infra.processes import ManagedProcess, child_pids, free_port, wait_until
from infra.producer import EventProducer
from infra.stack import LocalKafka
from infra.topic_reader import read_from_start
from reco.arguments import positive_int
from reco.clock import now_ms
from reco.config import Settings, settings_env
from reco.events import Event
from reco.history import FORMATS, read_history
from reco.pseudonyms import ensure_local_key, load_pseudonyms
from reco.simulator import ShopperSimulation, SimConfig
from reco.v1 import recommendations_pb2 as pb


def settings_for(kafka: LocalKafka, root: Path, name: str) -> Settings:
    # one pseudonym key for every job and server of the run, as a deployment has
    key = ensure_local_key(Settings(stack_dir=str(root)))
    # ports of its own: a benchmark starts servers one after the other, and one still
    # shutting down holds its ports
    return Settings(kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
                    admin_addr=f"127.0.0.1:{free_port()}",
                    flink_rest_port=free_port(), stack_dir=str(root / name),
                    checkpoint_dir=str(root / name / "ck"), store_path=str(root / "store"),
                    job_name=f"bench-{name}", consumer_group=f"bench-{name}-{uuid.uuid4().hex}",
                    restart_attempts=0, consent_default="allow",  # loadgen: no consent
                    id_key_file=str(key))


def preload(settings: Settings, users: int, limit: int) -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=users, seed=7, run_id=f"b{now_ms()}"))
    return send_backlog(settings, [e for _, e in zip(range(limit), sim.events(), strict=False)])


def send_backlog(settings: Settings, events: list[Event], stamp: bool = True) -> list[Event]:
    """``events`` into Kafka, stamped now (as a backlog of live traffic) or with their own
    times (``stamp`` False: as ``reco import`` sends a history); returns them."""
    if stamp:
        events = [dataclasses.replace(e, ts=now_ms()) for e in events]
    with EventProducer(settings) as producer:
        producer.send_all(events)
    return events


def checkpoint_state_bytes(settings: Settings) -> int | None:
    """Full size of the job's latest completed checkpoint (all keyed state)."""
    stats = job_checkpoints(settings.flink_rest_port) or {}
    completed = (stats.get("latest") or {}).get("completed") or {}
    size = completed.get("state_size") or completed.get("full_size")
    return int(size) if size else None


def add_backlog_options(parser: argparse.ArgumentParser) -> None:
    """What ``backlog`` reads: a history file (or the simulation) and how much of it."""
    parser.add_argument("file", nargs="?", help="a history file (default: the simulation)")
    parser.add_argument("--format", default="csv", choices=FORMATS)
    parser.add_argument("--events", type=positive_int, help="the first N events")
    parser.add_argument("--users", type=positive_int, default=2_000,
                        help="simulated users (without a file)")


def backlog(args: argparse.Namespace) -> list[Event]:
    """The events ``add_backlog_options`` named: the file's first ``--events``, or as many of
    the seeded simulation (30,000 by default)."""
    if args.file:
        events = read_history(args.file, args.format).events
        return events[:args.events] if args.events else events
    sim = ShopperSimulation(SimConfig(n_users=args.users, seed=7, run_id="profile"))
    return [e for _, e in zip(range(args.events or 30_000), sim.events(), strict=False)]


def _rates(progress_at: list[tuple[int, int]], events: int) -> dict[str, float]:
    """From (timestamp ms, events newly processed) points of a backlog of ``events``: the rate
    over what was processed (first output to last; all of it unless a drain timed out), and
    over the backlog's second half, when the job has warmed up (its JIT
    compiler done with the hot paths, its caches filled), as a long-running job is."""
    progress_at.sort()
    total, half_at, half_done, last = 0, None, 0, None
    for ts, newly in progress_at:
        if newly > 0:
            total, last = total + newly, ts
            if half_at is None and total >= events // 2:
                half_at, half_done = ts, total
    first = progress_at[0][0] if progress_at else None
    seconds = ((last or 0) - (first or 0)) / 1000
    late = ((last or 0) - (half_at or 0)) / 1000
    return {"events": total, "seconds": seconds,
            "events_per_s": total / seconds if seconds > 0 else float("nan"),
            "late_events_per_s": (total - half_done) / late if late > 0 else float("nan")}


def drain(settings: Settings, topic: str, expected: int, timeout_s: float) -> dict[str, float]:
    """Reads ``topic`` (one record per event) from the start until ``expected`` records: the
    rates between the records' timestamps (set by the job as it wrote them)."""
    consumer = read_from_start(settings, topic)
    stamps: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout_s
    while len(stamps) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            stamps += [(r.timestamp, 1) for r in records]
    consumer.close()
    return _rates(stamps, expected)


def drain_profiles(settings: Settings, events: list[Event], timeout_s: float) -> dict[str, float]:
    """Reads the profiles until every user's shows all their events (learned or filtered):
    the rates between the first profile and the one completing the last user, each profile
    adding the events its user's count grew by. Profiles are published at most once per
    interval per user, so the end can lag by that interval."""
    ids = load_pseudonyms(settings)  # the job's key: profiles name users by pseudonym
    expected = Counter(ids.of(e.user_id) for e in events)
    counted: Counter[str] = Counter()
    done: set[str] = set()
    consumer = read_from_start(settings, settings.topic_user_profiles)
    progress_at: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout_s
    shown = time.monotonic()
    while len(done) < len(expected) and time.monotonic() < deadline:
        if time.monotonic() - shown > 15:
            shown = time.monotonic()
            progress(f"    {len(done)} of {len(expected)} users complete")
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                profile = pb.UserProfile.FromString(record.value)
                user = profile.user_id
                seen = min(expected[user], profile.event_count + profile.filtered_events)
                progress_at.append((record.timestamp, seen - counted[user]))
                counted[user] = max(counted[user], seen)
                if seen >= expected[user]:
                    done.add(user)
    consumer.close()
    if len(done) < len(expected):
        progress(f"    only {len(done)} of {len(expected)} users complete before the timeout")
    return _rates(progress_at, len(events))


def cpu_by_part(drain: Callable[[], dict[str, float]], job: ManagedProcess,
                broker: int | None) -> dict[str, Any]:
    """``drain()``'s rate, with the CPU spent per event while it ran: by the job's JVM threads
    (by name: a Flink task is named after its first operators; compiler, GC and Kafka client
    threads by theirs), its Python driver and the broker. On a machine whose cores these
    share, this says where the time goes."""
    driver = job.pid()
    if driver is None:
        raise RuntimeError(f"the {job.name} job is not running; see {job.log_path}")
    jvm = next((pid for pid in child_pids(driver)
                if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]), None)
    if jvm is None:
        raise RuntimeError(f"the {job.name} job has no JVM child; see {job.log_path}")
    broker_cpu = (lambda: process_cpu_s(broker)) if broker else (lambda: float("nan"))
    before = (thread_cpu_s(jvm), process_cpu_s(driver), broker_cpu())
    result: dict[str, Any] = dict(drain())
    threads = thread_cpu_s(jvm) - before[0]
    per_event = 1e6 / max(1, result["events"])
    total = sum(threads.values())
    shown = {name.rstrip(" ->(,"): seconds for name, seconds in threads.most_common()
             if seconds >= 0.02 * total}
    result["cpu_us_per_event"] = {
        "job_threads": {name: seconds * per_event for name, seconds in shown.items()}
        | {"other threads": (total - sum(shown.values())) * per_event},
        "job": total * per_event,
        "driver": (process_cpu_s(driver) - before[1]) * per_event,
        "broker": (broker_cpu() - before[2]) * per_event}
    return result


def served_users(settings: Settings, users: int, events: int, run_dir: Path) -> list[str]:
    """A simulated backlog of ``events`` by ``users`` through the full job until every profile
    is out, the job then stopped (lookup benchmarks: it would take the server's cores); the
    users whose lists the output topics hold."""
    sent = preload(settings, users, events)
    progress(f"the full job over {len(sent)} simulated events")
    job = run_job(settings, "jobs.recommend", run_dir)
    drain_profiles(settings, sent, 600)
    job.stop()
    return sorted({e.user_id for e in sent})


def run_job(settings: Settings, module: str, run_dir: Path) -> ManagedProcess:
    job = ManagedProcess(module.rsplit(".", 1)[-1], [sys.executable, "-m", module], run_dir,
                         {**os.environ, **settings_env(settings)})
    job.start()
    wait_until(lambda: flink_job_running(settings.flink_rest_port), 240, module, job.alive,
               job.log_path)
    return job
