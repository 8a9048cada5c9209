"""Delivery of the upserts: with ``upserts_at_least_once`` a user's profile, list and consent
state are readable (read_committed) before any checkpoint has completed, while the
exactly-once outputs wait for the checkpoint's commit; a withdrawal of consent reaches the
server with her tombstones; a job that keeps up publishes each event of a burst at once."""

from __future__ import annotations

import time
import uuid

import grpc
import pytest

from bench.equivalence import latest
from infra.client import RecoClient
from infra.flink_rest import job_checkpoints
from infra.producer import EventProducer
from infra.stack import Stack
from reco.events import Event
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually, key_of, own_settings

pytestmark = pytest.mark.integration


def test_at_least_once_upserts_are_visible_before_the_first_checkpoint(kafka, tmp_path):
    run = f"delivery-{uuid.uuid4().hex[:6]}"
    # no checkpoint for ten minutes: an exactly-once output stays invisible all that time
    # and a user's publications at most every ten minutes, unless the job keeps up
    settings = own_settings(kafka, tmp_path, run, upserts_at_least_once=True,
                            checkpoint_interval_ms=600_000, log_impressions=False,
                            profile_min_interval_ms=600_000, profile_live_lag_ms=2_000)
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
        assert no_checkpoint(settings)
        # the exactly-once outputs of the same events are still uncommitted
        assert latest(settings, settings.topic_item_features) == {}

        # consent on the same path: her withdrawal, her state and her tombstones, all at once
        vera = key_of(settings, "vera")
        with EventProducer(settings) as producer:
            producer.send_all([Event(f"{run}-yes", "consent", "vera", ts=now,
                                     personalization=True),
                               Event(f"{run}-v", "product_view", "vera", ts=now + 1,
                                     item_id="item-0", category="shoes")])
        eventually(lambda: latest(settings, settings.topic_user_profiles).get(vera), 60,
                   "her profile")
        stack.start_server()
        with RecoClient(settings.grpc_addr, timeout_s=5) as client:
            eventually(lambda: client.profile("vera").event_count == 1, 30, "her profile served")
            # the job keeps up (it is warm now): each of a burst's events is published at
            # once, where the interval would hold the second one back for ten minutes
            with EventProducer(settings) as producer:
                for n in (3, 4):
                    producer.send(Event(f"{run}-{n}", "product_view", "una",
                                        ts=int(time.time() * 1000), item_id=f"item-{n}",
                                        category="shoes"))
                    producer.flush()
            eventually(lambda: client.profile("una").last_event_id == f"{run}-4", 30,
                       "the burst's last event published at once")
            with EventProducer(settings) as producer:
                producer.send(Event(f"{run}-no", "consent", "vera", ts=now + 10,
                                    personalization=False))
            eventually(lambda: vera in latest(settings, settings.topic_user_profiles)
                       and latest(settings, settings.topic_user_profiles)[vera] is None, 60,
                       "the tombstone of her profile")
            state = pb.ConsentState.FromString(latest(settings, settings.topic_consent)[vera])
            assert state.personalization is False and state.updated_at_ms == now + 10
            # the server says why she has no profile: her consent, not a missing record
            eventually(lambda: "not consented" in refusal(client, "vera"), 30,
                       "the server's consent book")
        assert no_checkpoint(settings)
    finally:
        stack.down(only_started=True)


def refusal(client: RecoClient, user: str) -> str:
    try:
        client.profile(user)
        return ""
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return error.details() or ""


def no_checkpoint(settings) -> bool:
    completed = (job_checkpoints(settings.flink_rest_port) or {}).get("counts", {})
    return completed.get("completed", 0) == 0
