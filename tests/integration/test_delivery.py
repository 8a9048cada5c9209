"""Delivery of the upserts: with ``upserts_at_least_once`` a user's profile and list are
readable (read_committed) before any checkpoint has completed, while the exactly-once outputs
wait for the checkpoint's commit."""

from __future__ import annotations

import time
import uuid

import pytest

from bench.equivalence import latest
from infra.flink_rest import job_checkpoints
from infra.producer import EventProducer
from infra.stack import Stack
from reco.events import Event
from reco.topics import ensure_topics
from tests.integration.conftest import eventually, key_of, own_settings

pytestmark = pytest.mark.integration


def test_at_least_once_upserts_are_visible_before_the_first_checkpoint(kafka, tmp_path):
    run = f"delivery-{uuid.uuid4().hex[:6]}"
    # no checkpoint for ten minutes: an exactly-once output stays invisible all that time
    settings = own_settings(kafka, tmp_path, run, upserts_at_least_once=True,
                            checkpoint_interval_ms=600_000, log_impressions=False)
    ensure_topics(settings)
    stack = Stack(settings)
    try:
        stack.start_job(fresh=True)
        now = int(time.time() * 1000)
        with EventProducer(settings) as producer:
            producer.send_all([Event(f"{run}-{n}", "product_view", "una", ts=now + n,
                                     item_id=f"item-{n}", category="shoes") for n in range(3)])
        una = key_of(settings, "una")
        # the profile and the list go to two sinks, each flushing on its own
        eventually(lambda: una in latest(settings, settings.topic_user_profiles)
                   and una in latest(settings, settings.topic_recommendations), 60,
                   "the profile and the list readable")
        completed = (job_checkpoints(settings.flink_rest_port) or {}).get("counts", {})
        assert completed.get("completed", 0) == 0
        # the exactly-once outputs of the same events are still uncommitted
        assert latest(settings, settings.topic_item_features) == {}
    finally:
        stack.down(only_started=True)
