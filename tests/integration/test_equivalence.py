"""What we measure is what we ship: the same seeded stream through the real job (Kafka, a Flink
MiniCluster) and through the evaluation harness (evaluation/system.py) gives every user the
same final profile and recommendation list, byte for byte (serialised protobuf, with the
publication time, ``updated_at_ms``, cleared: the job stamps processing time, the harness event
time).

Both run the user step (userstep/step.py). To make the job's order of work the harness's, the
stream goes to one topic of one partition and the job runs at parallelism 1, publishing every
event (``profile_min_interval_ms`` 0) and reporting every item score (``trending_emit_ratio``
1). The shared lists reach the user operator asynchronously, so after the stream, once they
have settled, one last event per user (a checkout start: no item, no shared signal) makes both
publish every user's list from the final shared state."""

from __future__ import annotations

import dataclasses
import difflib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import text_format
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from evaluation.system import InProcessSystem
from infra.processes import free_port
from infra.producer import EventProducer
from infra.stack import Stack
from reco.config import Settings
from reco.events import Event
from reco.keys import GLOBAL_LIST
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import INPUT, ensure_topics
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration
STREAM_TOPIC = "stream"  # one topic, one partition: arrival order is send order


def stream() -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=60, seed=11, run_id="eq"))
    events = [e for _, e in zip(range(2_400), sim.events(), strict=False)]
    users = sorted({e.user_id for e in events})
    last = max(e.ts for e in events)
    ticks = [Event(f"tick-{user}", "checkout_start", user, ts=last + 1_000 + n)
             for n, user in enumerate(users)]
    return events + ticks


@pytest.fixture(scope="module")
def equivalence_stack(kafka, tmp_path_factory) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:6]
    root = tmp_path_factory.mktemp("equivalence")
    names: dict[str, Any] = {f.name: f"eq-{run}-{f.default}" for f in dataclasses.fields(Settings)
             if f.name.startswith("topic_") and f.name != "topic_partitions"}
    settings = Settings(
        kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
        flink_rest_port=free_port(), stack_dir=str(root), checkpoint_dir=str(root / "ck"),
        store_path=str(root / "store"), job_name=f"eq-{run}", consumer_group=f"eq-{run}",
        restart_attempts=0, checkpoint_interval_ms=500, partition_discovery_ms=1000,
        event_topic_prefix=f"eq-{run}.events.", topic_partitions=1, job_parallelism=1,
        profile_min_interval_ms=0, trending_emit_ratio=1.0, top_emit_interval_ms=100,
        log_impressions=False)
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


def latest(settings: Settings, topic: str) -> dict[str, bytes]:
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000,
                             isolation_level="read_committed")
    out = {m.key.decode(): m.value for m in consumer if m.key is not None}
    consumer.close()
    return out


def same(job: str, harness: str, what: str) -> None:
    diff = list(difflib.unified_diff(job.splitlines(), harness.splitlines(), "job", "harness",
                                     lineterm="", n=2))
    assert not diff, f"{what} differs:\n" + "\n".join(diff[:40])


def counted(raw: bytes) -> tuple[int, int]:
    """Events a published profile has learned and filtered (caught up when they match)."""
    profile = pb.UserProfile.FromString(raw)
    return profile.event_count, profile.filtered_events


def cleared(raw: bytes, kind: Any) -> str:
    """The message with its publication time cleared, as text (a failure shows the fields)."""
    message = kind.FromString(raw)
    message.updated_at_ms = 0
    return text_format.MessageToString(message)


def test_the_job_and_the_harness_give_every_user_the_same_profile_and_list(
        equivalence_stack):
    settings = equivalence_stack
    events = stream()
    body, ticks = events[:-len({e.user_id for e in events if e.event_id.startswith("tick")})], \
        [e for e in events if e.event_id.startswith("tick-")]
    topic = f"{settings.event_topic_prefix}{STREAM_TOPIC}"
    with EventProducer(settings) as producer:
        for event in body:
            producer.send_raw(topic, event.to_json(), key=event.user_id.encode())
    users = sorted({e.user_id for e in events})

    def profiles_caught_up() -> bool:
        found = latest(settings, settings.topic_user_profiles)
        return len(found) == len(users)  # every user's profile is out

    eventually(profiles_caught_up, 240, "the job's profiles of every user")
    time.sleep(5)  # the shared lists settle (throttled at top_emit_interval_ms)
    with EventProducer(settings) as producer:
        for event in ticks:
            producer.send_raw(topic, event.to_json(), key=event.user_id.encode())

    harness = InProcessSystem(settings, retrain_factors=False, page_requests=False)
    for event in events:
        harness.learn(event)
    seen = {user: counted(harness.published[user]) for user in users}

    def ticked() -> dict[str, bytes] | None:
        found = latest(settings, settings.topic_user_profiles)
        done = all(user in found and counted(found[user]) == seen[user] for user in users)
        return found if done else None

    job_profiles = eventually(ticked, 240, "every user's last event published by the job")
    job_lists = latest(settings, settings.topic_recommendations)
    job_popular = latest(settings, settings.topic_popular_lists)
    assert len(events) >= 2_000 and len(users) >= 10
    contexts = {(e.device, e.country, e.timezone) for e in body}
    assert len(contexts) > 3  # devices, countries and time zones (so parts of the day) vary
    for user in users:
        same(cleared(job_profiles[user], pb.UserProfile),
             cleared(harness.published[user], pb.UserProfile), f"{user}'s profile")
        if user in harness.lists or user in job_lists:
            same(cleared(job_lists[user], pb.RecommendationList),
                 cleared(harness.lists[user], pb.RecommendationList), f"{user}'s list")
    # a user never seen gets the cold-start list, the same in both
    assert cleared(job_popular[GLOBAL_LIST], pb.RecommendationList) == cleared(
        harness.global_list(), pb.RecommendationList)
