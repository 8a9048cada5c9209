"""``reco import``: loads a shop's history into the running system so that recommendations are
good from day one. Every row is validated (bad rows are reported with their line numbers, the
rest load), events go to Kafka in event-time order at full speed with progress shown, and then
the command follows the job's consumer lag until the job has caught up, and prints a summary.

A file is recorded by its content digest on the compacted ``imports`` topic: importing the
same file again sends nothing (``--force`` sends it anyway; its event ids are derived from the
rows, so the job's de-duplication drops the resent events it still remembers, the last
``dedup_window`` per user)."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from infra.producer import EventProducer
from reco.clock import now_ms
from reco.config import Settings
from reco.history import History, read_history
from reco.reporting import progress
from reco.topics import ensure_topics, event_topic

SHOWN_REJECTS = 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def imported_before(settings: Settings, digest: str) -> dict[str, Any] | None:
    """What an earlier import of this content recorded, or None."""
    consumer = KafkaConsumer(settings.topic_imports, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=1500,
                             enable_auto_commit=False)
    found = None
    for record in consumer:
        if record.key == digest.encode():
            found = json.loads(record.value) if record.value else None
    consumer.close()
    return found


def record_import(settings: Settings, digest: str, summary: dict[str, Any]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(settings.topic_imports, key=digest.encode(),
                  value=json.dumps(summary).encode())
    producer.flush()
    producer.close()


def send(settings: Settings, history: History, topic: str | None = None
         ) -> tuple[float, set[str]]:
    """Sends the events in order with progress, to their types' topics or all to ``topic``;
    returns the seconds it took and the topics."""
    total = len(history.events)
    step = max(1, total // 20)
    started = time.monotonic()
    with EventProducer(settings) as producer:
        for n, event in enumerate(history.events, 1):
            producer.send(event, topic)
            if n % step == 0 or n == total:
                rate = n / max(time.monotonic() - started, 1e-9)
                progress(f"  sent {n * 100 // total:3d}%  {n:,}/{total:,} events, "
                         f"{rate:,.0f}/s, eta {(total - n) / rate:.0f} s")
        producer.flush()
    topics = {event_topic(settings, e.event_type, topic) for e in history.events}
    return time.monotonic() - started, topics


def lag(settings: Settings, topics: set[str]) -> int:
    """Records of ``topics`` the job's consumer group has not committed yet (the job commits
    its offsets with each completed checkpoint)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        group = settings.consumer_group
        committed = admin.list_group_offsets(group).get(group, {})
        partitions = [TopicPartition(t, p) for t in topics
                      for p in consumer.partitions_for_topic(t) or ()]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, end - (committed[tp].offset if tp in committed else 0))
                   for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def wait_caught_up(settings: Settings, topics: set[str], timeout_s: float) -> float | None:
    """Seconds until the job's lag on ``topics`` is zero, or None at the timeout."""
    started = time.monotonic()
    shown = 0.0
    while time.monotonic() - started < timeout_s:
        left = lag(settings, topics)
        if left == 0:
            return time.monotonic() - started
        if time.monotonic() - shown > 5:
            shown = time.monotonic()
            progress(f"  the job has {left:,} events to go")
        time.sleep(0.5)
    return None


def run_import(settings: Settings, path: Path, kind: str, *, force: bool = False,
               wait: bool = True, timeout_s: float = 1800.0, topic: str | None = None
               ) -> dict[str, Any]:
    """Imports ``path``; with ``topic`` every event goes to that one input topic (under the
    event prefix, created if missing), so the job reads the file's order, not an interleaving
    of a topic per event type."""
    history = read_history(path, kind)
    for line, reason in history.rejected[:SHOWN_REJECTS]:
        progress(f"  line {line}: rejected: {reason}")
    if len(history.rejected) > SHOWN_REJECTS:
        progress(f"  ... and {len(history.rejected) - SHOWN_REJECTS:,} more rejected rows")
    digest = file_digest(path)
    before = imported_before(settings, digest)
    summary: dict[str, Any] = {
        "file": str(path), "format": kind, "events": len(history.events),
        "users": len({e.user_id for e in history.events}),
        "items": len({e.item_id for e in history.events if e.item_id}),
        "rejected_rows": len(history.rejected),
        "types": dict(Counter(e.event_type for e in history.events))}
    if before is not None and not force:
        progress(f"{path} was imported before ({before.get('events', 0):,} events, at "
                 f"{before.get('imported_at_ms')} ms): nothing sent (--force sends it again)")
        return {**summary, "sent": 0, "already_imported": True}
    progress(f"importing {len(history.events):,} events of {summary['users']:,} users "
             f"({len(history.rejected):,} rows rejected)")
    if topic:
        ensure_topics(settings, inputs=(topic,))
    seconds, topics = send(settings, history, topic)
    summary.update(sent=len(history.events), send_s=round(seconds, 2),
                   events_per_s=round(len(history.events) / max(seconds, 1e-9)),
                   imported_at_ms=now_ms())
    record_import(settings, digest, summary)
    if wait and history.events:
        caught_up = wait_caught_up(settings, topics, timeout_s)
        summary["catch_up_s"] = round(caught_up, 2) if caught_up is not None else None
    return summary
