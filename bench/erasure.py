"""Erasure under load: ``--users`` users (100) are erased, one request every ``--spacing-ms``,
while simulated shoppers send ``--rate`` events/s (1,000) and probes time an event's way to its
profile. Reports each erasure's completion (request -> the job's and the server's
confirmations on erasure.done) as p50/p99/max, and the probes' freshness without and with the
erasures in flight (the cost to the stream). Writes bench/results/erasure-<time>.json and
erasure-latest.png.

  python -m bench.erasure --users 100 --rate 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from confluent_kafka import Producer

from bench.backlog import settings_for
from bench.common import RESULTS, machine, percentile, progress, write_results
from bench.serving_probes import freshness
from infra.client import RecoClient
from infra.erasure import request_erasure
from infra.processes import exit_on_sigterm
from infra.producer import EventProducer
from infra.stack import Stack, local_kafka
from infra.topic_reader import read_from_start
from reco.arguments import positive_int
from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import parse_done
from reco.events import Event
from reco.pseudonyms import load_pseudonyms
from reco.topics import ensure_topics


def seed_users(settings: Settings, client: RecoClient, users: list[str]) -> None:
    """Each user consents and views an item; returns once every profile is served."""
    with EventProducer(settings) as producer:
        for user in users:
            producer.send(Event(f"{user}-c", "consent", user, ts=now_ms(),
                                personalization=True, analytics=True))
            producer.send(Event(f"{user}-v", "product_view", user, ts=now_ms(),
                                item_id="bench-item", category="bench"))
    waiting, deadline = set(users), time.monotonic() + 120
    while waiting and time.monotonic() < deadline:
        for user in list(waiting):
            try:
                client.profile(user)
                waiting.discard(user)
            except grpc.RpcError:
                pass
        time.sleep(0.2)
    if waiting:
        raise SystemExit(f"{len(waiting)} seeded users have no profile after 120 s")


def erase_all(settings: Settings, users: list[str], spacing_ms: int,
              timeout_s: float) -> dict[str, dict[str, int]]:
    """Erases the users one by one; returns per request id its request time and each store's
    confirmation time, as read from erasure.done."""
    requested: dict[str, dict[str, int]] = {}
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                         "client.id": "bench-erasure", "enable.idempotence": True})
    ids = load_pseudonyms(settings)  # requests name pseudonyms, as `reco erase` sends them
    for user in users:
        at = now_ms()
        requested[request_erasure(settings, ids.of(user), producer)] = {"requested": at}
        time.sleep(max(0.0, spacing_ms / 1000 - (now_ms() - at) / 1000))
    consumer = read_from_start(settings, settings.topic_erasure_done)
    deadline = time.monotonic() + timeout_s
    complete = 0
    while complete < len(users) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                done = parse_done(record.value)
                times = requested.get(done.request_id)
                if times is not None:
                    times.setdefault(done.store.split(":")[0], done.done_at_ms)
        complete = sum(1 for t in requested.values() if "job" in t and "server" in t)
    consumer.close()
    return requested


def summary(requested: dict[str, dict[str, int]]) -> dict[str, Any]:
    def took(store: str) -> list[float]:
        return [t[store] - t["requested"] for t in requested.values() if store in t]

    out: dict[str, Any] = {"requests": len(requested)}
    for store in ("job", "server"):
        delays = took(store)
        out[store] = {"confirmed": len(delays), "p50_ms": percentile(delays, 50),
                      "p99_ms": percentile(delays, 99), "max_ms": max(delays, default=-1)}
    return out


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    delays = sorted(t["server"] - t["requested"] for t in results["requests"].values()
                    if "server" in t)
    left.plot(delays, [n / max(len(delays), 1) for n in range(1, len(delays) + 1)])
    left.set_xlabel("request -> last store confirmed (ms)")
    left.set_ylabel("share of erasures")
    phases = ["without", "with"]
    fresh = [results["freshness_before"], results["freshness_during"]]
    right.bar([f"p50\n{p}" for p in phases], [f["p50_ms"] for f in fresh])
    right.bar([f"p99\n{p}" for p in phases], [f["p99_ms"] for f in fresh])
    right.set_xlabel("erasures in flight")
    right.set_ylabel("event -> served profile (ms)")
    fig.suptitle(f"erasure at {results['rate']} events/s, {results['machine']['cores']} cores",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.erasure", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=positive_int, default=100, help="users erased")
    parser.add_argument("--rate", type=positive_int, default=1000, help="events/s meanwhile")
    parser.add_argument("--spacing-ms", type=positive_int, default=100,
                        help="between two erasure requests (default 100)")
    parser.add_argument("--probes", type=positive_int, default=40,
                        help="freshness probes per phase")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-erasure-"))
    results: dict[str, Any] = {"command": "python -m bench.erasure " + " ".join(sys.argv[1:]),
                               "machine": machine(), "rate": args.rate, "users": args.users}
    with local_kafka(root) as kafka:
        settings = settings_for(kafka, root, "erasure").replace(
            log_impressions=False, store_path=str(root / "erasure-store"))
        ensure_topics(settings)
        stack = Stack(settings)
        try:
            stack.start_job(fresh=True)
            stack.start_server()
            with RecoClient(settings.grpc_addr, timeout_s=5) as client:
                users = [f"erase-me-{n}" for n in range(args.users)]
                progress(f"seeding {len(users)} users")
                seed_users(settings, client, users)
                progress("warming up; then freshness without erasures")
                freshness(settings, client, args.rate, 10)
                results["freshness_before"] = freshness(settings, client, args.rate,
                                                        args.probes)
                progress(f"erasing {len(users)} users at {args.rate} events/s")
                erased: dict[str, Any] = {}
                worker = threading.Thread(target=lambda: erased.update(erase_all(
                    settings, users, args.spacing_ms, 120)), daemon=True)
                worker.start()
                results["freshness_during"] = freshness(settings, client, args.rate,
                                                        args.probes)
                worker.join()
                results["requests"] = erased
                results["completion"] = summary(erased)
        finally:
            stack.down(only_started=True)
    path = write_results("erasure", {k: v for k, v in results.items()})
    plot(results, RESULTS / "erasure-latest.png")
    done = results["completion"]
    for store in ("job", "server"):
        d = done[store]
        print(f"erasure -> {store:6s} confirmed {d['confirmed']}/{done['requests']}: "
              f"p50 {d['p50_ms']:.0f} ms  p99 {d['p99_ms']:.0f} ms  max {d['max_ms']:.0f} ms")
    before, during = results["freshness_before"], results["freshness_during"]
    print(f"freshness at {args.rate} ev/s: p50 {before['p50_ms']:.0f} -> "
          f"{during['p50_ms']:.0f} ms, p99 {before['p99_ms']:.0f} -> {during['p99_ms']:.0f} ms "
          f"(without -> with erasures; ratio p50 {during['p50_ms'] / before['p50_ms']:.2f})")
    print(f"wrote {path} and {RESULTS / 'erasure-latest.png'}")


if __name__ == "__main__":
    main()
