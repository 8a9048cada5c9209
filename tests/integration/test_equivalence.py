"""What we measure is what we ship: the same seeded stream, loaded with ``reco import`` into
the real job (Kafka, a Flink MiniCluster) and learned by the evaluation harness
(evaluation/system.py), gives every user the same final profile and recommendation list, byte
for byte. bench/equivalence.py says how the two are made to do the same work in the same
order; ``python -m bench.import_history --compare`` does the same on a public data set."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from bench.equivalence import (
    SETTLE_S,
    closing_events,
    compare,
    equivalent,
    harness_after,
    latest,
    wait_for,
)
from infra.importer import run_import
from infra.processes import free_port
from infra.producer import EventProducer
from infra.stack import Stack
from reco.config import Settings
from reco.events import Event
from reco.history import read_history
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import INPUT, ensure_topics
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration
STREAM_TOPIC = "stream"  # one topic, one partition: arrival order is send order


def stream() -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=60, seed=11, run_id="eq"))
    return [e for _, e in zip(range(2_400), sim.events(), strict=False)]


@pytest.fixture(scope="module")
def equivalence_stack(kafka, tmp_path_factory) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:6]
    root = tmp_path_factory.mktemp("equivalence")
    names: dict[str, Any] = {f.name: f"eq-{run}-{f.default}" for f in dataclasses.fields(Settings)
             if f.name.startswith("topic_") and f.name != "topic_partitions"}
    settings = equivalent(Settings(
        kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
        flink_rest_port=free_port(), stack_dir=str(root), checkpoint_dir=str(root / "ck"),
        store_path=str(root / "store"), job_name=f"eq-{run}", consumer_group=f"eq-{run}",
        restart_attempts=0, checkpoint_interval_ms=500, partition_discovery_ms=1000,
        event_topic_prefix=f"eq-{run}.events."))
    settings = dataclasses.replace(settings, **names)
    ensure_topics(settings)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(f"{settings.event_topic_prefix}{STREAM_TOPIC}", 1, 1,
                                  topic_configs=INPUT)])
    admin.close()
    stack = Stack(settings)
    try:
        stack.start_job(fresh=True)
        yield settings
    finally:
        stack.down(only_started=True)


def test_the_job_and_the_harness_give_every_user_the_same_profile_and_list(
        equivalence_stack, tmp_path):
    settings = equivalence_stack
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(e.to_json_dict()) + "\n" for e in stream()))
    summary = run_import(settings, path, "jsonl", topic=STREAM_TOPIC, timeout_s=240)
    assert summary["catch_up_s"] is not None and summary["rejected_rows"] == 0
    body = read_history(path, "jsonl").events  # the import's order, which the harness follows
    users = sorted({e.user_id for e in body})
    eventually(lambda: len(latest(settings, settings.topic_user_profiles)) == len(users), 240,
               "the job's profiles of every user")
    time.sleep(SETTLE_S)
    closing = closing_events(body)
    with EventProducer(settings) as producer:
        for event in closing:
            producer.send(event, STREAM_TOPIC)

    harness = harness_after(settings, body + closing)
    profiles = wait_for(settings, harness, 240)
    assert profiles is not None, "the job did not publish every user's last event"
    assert len(body) >= 2_000 and len(users) >= 10
    contexts = {(e.device, e.country, e.timezone) for e in body}
    assert len(contexts) > 3  # devices, countries and time zones (so parts of the day) vary
    result = compare(settings, harness, profiles)
    assert result.users == len(users) and result.lists >= len(users) // 2
    assert result.identical, "\n\n".join(result.differences) or result.summary()
