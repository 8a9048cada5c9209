"""What we measure is what we ship: the same seeded stream, loaded with ``reco import`` into
the real job (Kafka, a Flink MiniCluster) and learned by the evaluation harness
(evaluation/system.py), gives every user the same final profile and recommendation list, byte
for byte. bench/equivalence.py says how the two are made to do the same work in the same
order; ``python -m bench.import_history --compare`` does the same on a public data set."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

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
from infra.producer import EventProducer
from infra.stack import Stack
from reco.config import Settings
from reco.events import Event
from reco.history import read_history, write_jsonl
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import ensure_topics
from tests.integration.conftest import eventually, own_settings

pytestmark = pytest.mark.integration
STREAM_TOPIC = "stream"  # one topic, one partition: arrival order is send order


def stream() -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=60, seed=11, run_id="eq"))
    return [e for _, e in zip(range(2_400), sim.events(), strict=False)]


@pytest.fixture(scope="module")
def equivalence_stack(kafka, tmp_path_factory) -> Iterator[Settings]:
    settings = equivalent(own_settings(kafka, tmp_path_factory.mktemp("equivalence"),
                                       f"eq-{uuid.uuid4().hex[:6]}"))
    ensure_topics(settings, inputs=(STREAM_TOPIC,))
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
    write_jsonl(path, stream())
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
