"""The feature engine against the running job: bots filtered to events.filtered, and a profile
built from a replayed stream equal to what the pure logic computes from the same events."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from kafka import KafkaConsumer

from features.profile_view import profile_message
from infra.client import RecoClient
from infra.producer import EventProducer
from reco.simulator import ShopperSimulation, SimConfig
from tests.integration.conftest import eventually, key_of
from userstep.engine import FeatureEngine

pytestmark = pytest.mark.integration


def profile_caught_up(served, state) -> bool:
    return (served.event_count, served.filtered_events) == (state.event_count, state.filtered)


def test_a_replayed_stream_gives_the_profiles_the_pure_logic_computes(stack, settings):
    sim = ShopperSimulation(SimConfig(n_users=12, n_items=80, seed=21, bot_share=0.2,
                                      run_id=f"replay{time.time_ns()}"))
    now = int(time.time() * 1000)
    shift = now - sim.config.start_ms - sim.config.duration_ms
    events = [dataclasses.replace(e, user_id="replay-" + e.user_id, ts=e.ts + shift)
              for e in sim.events()]
    engine = FeatureEngine(settings)
    rules = {e.event_id: engine.process(e) for e in events}
    with EventProducer(settings) as producer:
        producer.send_all(events)
    last = {e.user_id: e.event_id for e in events}
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def caught_up():
            try:
                return all(profile_caught_up(client.profile(u), engine.profiles[u])
                           for u in last)
            except Exception:
                return False

        eventually(caught_up, 90, "every replayed user's profile served")
        for user, state in engine.profiles.items():
            got = client.profile(user)
            want = profile_message(state, user, state.last_seen, 0, engine.population,
                                   engine.config)
            assert got.event_count == want.event_count, user
            assert got.filtered_events == want.filtered_events, user
            # Each event type has its own topic, and Kafka orders only within a partition, so
            # the job sees a user's events of different types in arrival order: order-sensitive
            # features (recent-item order, session boundaries) are not compared here; the
            # MiniCluster test, whose input keeps each user's order, compares them exactly.
            assert set(got.recent_item_ids) == set(want.recent_item_ids), user
            assert dict(got.event_type_counts) == dict(want.event_type_counts), user
            assert got.rfm.frequency == want.rfm.frequency, user
            assert got.rfm.monetary == pytest.approx(want.rfm.monetary), user
            assert dict(got.category_preferences) == pytest.approx(
                dict(want.category_preferences)), user
            assert [w.category_counts for w in got.windows] == \
                [w.category_counts for w in want.windows], user
    # events.filtered names users by pseudonym
    replayed = {key_of(settings, user) for user in engine.profiles}
    bots = {key_of(settings, "replay-" + u) for u in sim.bot_user_ids()}
    consumer = KafkaConsumer(settings.topic_filtered, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000,
                             isolation_level="read_committed")
    filtered: list[dict] = []

    def all_filtered():
        filtered.extend(json.loads(m.value) for m in consumer)
        ours = [f for f in filtered if f["event"]["user_id"] in replayed]
        return len(ours) == sum(1 for r in rules.values() if r is not None)

    eventually(all_filtered, 60, "every filtered event on events.filtered")
    consumer.close()
    flagged = {f["event"]["user_id"] for f in filtered
               if f["event"]["user_id"] in replayed and f["rule"] != "dwell_too_long"}
    assert flagged == bots
