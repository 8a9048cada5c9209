"""Pseudonymous user ids end to end: a user's events, a bad event of hers, a lookup and her
profile go through Kafka, the job on a Flink MiniCluster and the gRPC server. Then every topic
but the raw inputs, the job's state and checkpoints, the server's store and the logs are
scanned for her raw id: it is in none of them. She still gets her own list and profile."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import grpc
import pytest
from kafka import KafkaConsumer, TopicPartition

from infra.client import RecoClient
from infra.producer import EventProducer
from reco.events import Event
from tests.integration.conftest import eventually, key_of

pytestmark = pytest.mark.integration


def topic_holding(settings, needle: bytes) -> list[str]:
    """The topics (raw inputs left out) with a record whose key or value holds ``needle``."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                             enable_auto_commit=False)
    inputs = settings.event_topic_prefix
    topics = [t for t in consumer.topics()
              if not t.startswith(inputs) or t in (settings.topic_dlq, settings.topic_filtered)]
    partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    found: set[str] = set()
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        for tp, records in consumer.poll(timeout_ms=500).items():
            found.update(tp.topic for r in records
                         if needle in (r.key or b"") or needle in (r.value or b""))
    consumer.close()
    return sorted(found)


def files_holding(folder: Path, needle: bytes) -> list[str]:
    """The files under ``folder`` that hold ``needle``. The running job retires old
    checkpoints meanwhile: a folder or file gone before it is read is skipped (os.walk skips
    what it cannot list), the ones it keeps are read."""
    found = []
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent) / name
            try:
                held = needle in path.read_bytes()
            except FileNotFoundError:
                continue
            if held:
                found.append(str(path))
    return sorted(found)


def test_no_topic_state_store_or_log_holds_a_raw_user_id(stack, settings):
    run = uuid.uuid4().hex[:6]
    user = f"secret-shopper-{run}"
    now = int(time.time() * 1000)
    with EventProducer(settings) as producer:
        producer.send_all([Event(f"{run}-{n}", "product_view", user, ts=now + n,
                                 item_id=f"psx-{n}", category="ps") for n in range(3)])
        producer.send_raw(f"{settings.event_topic_prefix}click",
                          f'{{"event_id": "{run}-bad", "event_type": "click", "user_id": '
                          f'"{user}", "ts": 1}}'.encode(), key=b"k")  # to the DLQ
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def profile_events() -> int:
            try:
                return client.profile(user).event_count
            except grpc.RpcError:
                return 0

        eventually(lambda: profile_events() == 3, 90, "her profile")
        assert client.profile(user).user_id == user  # hers, as she asked for it
        reply = client.recommendations(user, 5)  # an impression, logged
        assert not reply.cold_start
    time.sleep(3)  # a checkpoint or two: the state written to disk
    needle = user.encode()
    pseudonym = key_of(settings, user).encode()
    assert topic_holding(settings, needle) == []
    assert settings.topic_user_profiles in topic_holding(settings, pseudonym)
    for folder in (Path(settings.stack_dir), Path(settings.checkpoint_dir),
                   Path(settings.store_path)):
        assert files_holding(folder, needle) == [], folder
