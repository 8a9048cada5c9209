"""How fast a catalog change reaches the answers: lists of many users are served while 1,000
of their items are set out of stock at once on the ``items`` topic; for each item, the time
from its write to the last answer that still held it (its disappearance, as lookups saw it).
The server runs as in production (its loader, its store); no job is needed. Writes
bench/results/availability-<time>.json and availability-latest.png.

  python -m bench.availability --users 5000 --flips 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.backlog import settings_for
from bench.common import RESULTS, machine, percentile, progress, write_results
from infra.client import RecoClient
from infra.processes import exit_on_sigterm
from infra.stack import Stack, local_kafka
from reco.arguments import positive_int
from reco.pseudonyms import ensure_local_key, load_pseudonyms
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import IN_STOCK, OUT_OF_STOCK, Item

ITEMS = 4_000
PER_LIST = 20


def publish(producer: Producer, topic: str, key: str, value: bytes) -> None:
    producer.produce(topic, key=key.encode(), value=value)
    producer.poll(0)


def user_items(n: int) -> list[str]:
    return [f"item-{(n * 7 + k * 13) % ITEMS}" for k in range(PER_LIST)]


def load(settings: Any, users: int) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 20})
    ensure_local_key(settings)
    ids = load_pseudonyms(settings)  # as the job keys lists: by pseudonym
    for n in range(ITEMS):
        publish(producer, settings.topic_items, f"item-{n}",
                Item(item_id=f"item-{n}", availability=IN_STOCK).SerializeToString())
    for n in range(users):
        listing = pb.RecommendationList(user_id=f"user-{n}", items=[
            pb.RecommendedItem(item_id=i, score=1.0 / (r + 1), source="recent", reason="recent")
            for r, i in enumerate(user_items(n))])
        publish(producer, settings.topic_recommendations, ids.of(f"user-{n}"),
                listing.SerializeToString())
    producer.flush(30)


def lookups(address: str, users: int, stop: threading.Event,
            seen: list[tuple[float, set[str]]]) -> None:
    with RecoClient(address, timeout_s=5) as client:
        n = 0
        while not stop.is_set():
            reply = client.recommendations(f"user-{n % users}", PER_LIST)
            seen.append((time.monotonic(), {i.item_id for i in reply.items}))
            n += 7


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.availability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=positive_int, default=5_000)
    parser.add_argument("--flips", type=positive_int, default=1_000)
    parser.add_argument("--seconds", type=positive_int, default=10,
                        help="lookups go on this long after the flips")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-availability-"))
    with local_kafka(root) as kafka:
        settings = dataclasses.replace(settings_for(kafka, root, "availability"),
                                       policy="fixed:personal", log_impressions=False)
        ensure_topics(settings)
        progress(f"publishing {ITEMS:,} catalog items and {args.users:,} users' lists")
        load(settings, args.users)
        stack = Stack(settings)
        stack.start_server()  # SERVING once it has read the topics
        try:
            stop = threading.Event()
            seen: list[tuple[float, set[str]]] = []
            threads = [threading.Thread(target=lookups, args=(settings.grpc_addr, args.users,
                                                               stop, seen)) for _ in range(2)]
            for thread in threads:
                thread.start()
            time.sleep(2)
            flipped = [f"item-{n}" for n in range(0, ITEMS, max(1, ITEMS // args.flips))]
            flipped = flipped[:args.flips]
            progress(f"setting {len(flipped):,} items out of stock while lookups run")
            producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
            sent_at = time.monotonic()
            for item in flipped:
                publish(producer, settings.topic_items, item,
                        Item(item_id=item, availability=OUT_OF_STOCK).SerializeToString())
            producer.flush(30)
            del producer  # before the broker stops under it
            written_at = time.monotonic()
            time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            stack.down(only_started=True)
    gone = set(flipped)
    last_seen = {item: sent_at for item in flipped}
    for at, items in seen:
        for item in items & gone:
            last_seen[item] = max(last_seen[item], at)
    delays = [(last_seen[item] - sent_at) * 1000 for item in flipped]
    after = [items for at, items in seen if at > written_at + 2.0]
    results = {"command": "python -m bench.availability " + " ".join(sys.argv[1:]),
               "machine": machine(), "users": args.users, "flips": len(flipped),
               "lookups": len(seen), "send_ms": round((written_at - sent_at) * 1000),
               "p50_ms": round(percentile(delays, 50)), "p99_ms": round(percentile(delays, 99)),
               "max_ms": round(max(delays)),
               "answers_holding_a_flipped_item_2s_after": sum(bool(i & gone) for i in after)}
    path = write_results("availability", results)
    plot(delays, results, RESULTS / "availability-latest.png")
    print(f"{len(flipped):,} items out of stock (sent in {results['send_ms']} ms) while "
          f"{len(seen):,} lookups ran: gone from the answers after p50 {results['p50_ms']} ms, "
          f"p99 {results['p99_ms']} ms, max {results['max_ms']} ms (from the first send); "
          f"answers still holding one 2 s after the last send: "
          f"{results['answers_holding_a_flipped_item_2s_after']}")
    print(f"wrote {path} and {RESULTS / 'availability-latest.png'}")


def plot(delays: list[float], results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ordered = sorted(delays)
    ax.plot(ordered, [(n + 1) / len(ordered) for n in range(len(ordered))])
    ax.axvline(2000, color="grey", linewidth=0.8)
    ax.set_xlabel("ms from the catalog write to the last answer holding the item")
    ax.set_ylabel("share of items")
    fig.suptitle(f"{results['flips']} items out of stock while lookups run, "
                 f"{results['machine']['cores']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
