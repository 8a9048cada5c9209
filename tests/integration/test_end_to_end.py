"""Events into a real Kafka broker -> the running job -> the real gRPC server over a socket."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from infra.client import RecoClient
from infra.producer import EventProducer
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually, key_of

pytestmark = pytest.mark.integration
_ids = itertools.count()
T = TypeVar("T")


def events(user: str, kind: str, items: list[str], category: str, **extra) -> list[Event]:
    now = int(time.time() * 1000)
    return [Event(f"{user}-{next(_ids)}", kind, user, ts=now, item_id=item, category=category,
                  **extra) for item in items]


def send(settings, batch: list[Event], wire_format: str = "json") -> None:
    with EventProducer(settings, wire_format) as producer:
        producer.send_all(batch)


@pytest.fixture
def client(stack, settings):
    with RecoClient(settings.grpc_addr, timeout_s=5) as c:
        yield c


def profile_count(client: RecoClient, user: str) -> int:
    try:
        return client.profile(user).event_count
    except grpc.RpcError:
        return 0


def top_reason(client: RecoClient, user: str) -> str:
    """The reason of the user's best category-trend item (the policy decides how it ranks
    among the other sources)."""
    reply = client.recommendations(user, 20)
    trends = [i.reason for i in reply.items if i.source == "category"]
    return "" if reply.cold_start or not trends else trends[0]


def test_recommendations_follow_a_users_events(client, settings):
    crowd = [e for n in range(4) for e in
             events(f"crowd-{n}", "product_view", ["shoe-1", "shoe-2", "shoe-3"], "shoes")
             + events(f"crowd-{n}", "add_to_cart", ["bag-1", "bag-2"], "bags")]
    send(settings, crowd)
    eventually(lambda: {"shoe-1", "shoe-2", "shoe-3", "bag-1", "bag-2"} <= {
        i.item_id for i in client.recommendations("ann", 10).items}, what="crowd's items trend")
    assert client.recommendations("ann", 5).cold_start
    send(settings, events("ann", "product_view", ["shoe-1"], "shoes"))
    eventually(lambda: top_reason(client, "ann") == "trending:category=shoes", what="shoes list")
    first = [i.item_id for i in client.recommendations("ann", 10).items]
    assert {"shoe-2", "shoe-3"} <= set(first)
    send(settings, events("ann", "purchase", ["shoe-2"], "shoes", price=20.0)
         + events("ann", "add_to_cart", ["bag-1", "bag-2", "bag-1"], "bags", price=50.0))
    eventually(lambda: {"bag-1", "bag-2"} <= {i.item_id for i in client.recommendations(
        "ann", 20).items if i.source == "recent"}, what="her carted bags as her own items")
    reply = client.recommendations("ann", 10)
    after = [i.item_id for i in reply.items]
    assert after != first
    # what she bought comes back only as her own item (the revisit ranker ranks it), never as
    # a trend or a co-occurrence
    assert {i.source for i in reply.items if i.item_id == "shoe-2"} <= {"recent"}


def test_malformed_events_are_dead_lettered_and_good_ones_around_them_processed(client,
                                                                              settings):
    bad = [b"{broken", b'{"event_id": "z", "event_type": "click", "user_id": "bea", "ts": 1}',
           b'{"event_id": "y", "event_type": "click", "user_id": "bea", "item_id": "i", '
           b'"ts": 1795680000000, "dwell_ms": -4}']
    good = events("bea", "product_view", ["shoe-1", "shoe-2"], "shoes")
    with EventProducer(settings) as producer:
        producer.send(good[0])
        for raw in bad:
            producer.send_raw(f"{settings.event_topic_prefix}click", raw, key=b"bea")
        producer.send(good[1])
    eventually(lambda: profile_count(client, "bea") == 2, what="both good events counted")
    consumer = KafkaConsumer(settings.topic_dlq, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000,
                             isolation_level="read_committed")
    letters: list[dict] = []

    expected = ["malformed JSON", "missing item_id (required for click)",
                "dwell_ms -4 is outside"]

    def collect():
        letters.extend(json.loads(m.value) for m in consumer)
        return all(any(want in letter["reason"] for letter in letters) for want in expected)

    eventually(collect, 30, "three dead letters")
    consumer.close()
    ours = [letter for letter in letters if letter["topic"] == "events.click"]
    assert all(letter["offset"] >= 0 and "raw" in letter for letter in ours)


def test_protobuf_events_are_accepted(client, settings):
    send(settings, events("pia", "wishlist", ["shoe-3"], "shoes"), wire_format="protobuf")
    profile = eventually(lambda: profile_count(client, "pia") and client.profile("pia"),
                         what="profile of a protobuf event")
    assert profile.event_type_counts["wishlist"] == 1
    assert list(profile.recent_item_ids) == ["shoe-3"]


def test_duplicate_event_ids_are_counted_once(client, settings):
    once = events("dan", "click", ["shoe-1"], "shoes")
    send(settings, once * 3 + events("dan", "click", ["shoe-2"], "shoes"))
    eventually(lambda: profile_count(client, "dan") == 2, what="two distinct events")
    time.sleep(1.5)  # a late duplicate would show up as 3 or 4
    assert profile_count(client, "dan") == 2


def test_bad_grpc_arguments_get_invalid_argument_and_unknown_profiles_not_found(client):
    for user, k in (("", 5), ("ann", 0), ("ann", 101)):
        with pytest.raises(grpc.RpcError) as caught:
            client.recommendations(user, k)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        client.profile("never-seen")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_unknown_users_get_a_cold_start_list(client, settings):
    send(settings, events("cold-seed", "product_view", ["shoe-1"], "shoes"))
    reply = eventually(lambda: (r := client.recommendations("someone-new", 3)).items and r,
                       what="cold-start list")
    # what users of the segment the context suggests like, or what everybody likes
    assert reply.cold_start and reply.segment
    assert {i.reason for i in reply.items} <= {"popular", f"popular:segment={reply.segment}"}


def test_health_and_reflection(stack, settings):
    with grpc.insecure_channel(settings.grpc_addr) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="reco.v1.Recommendations"))
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
            list_services="")]))
        names = {s.name for r in replies for s in r.list_services_response.service}
        assert "reco.v1.Recommendations" in names and "grpc.health.v1.Health" in names


def test_output_topics_are_compacted(stack, settings):
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    resources = [ConfigResource(ConfigResourceType.TOPIC, t)
                 for t in (settings.topic_recommendations, settings.topic_user_profiles)]
    described = admin.describe_configs(resources)
    admin.close()
    topics = next(iter(described.values()))
    for topic in (settings.topic_recommendations, settings.topic_user_profiles):
        policy = topics[topic]["cleanup.policy"]
        assert (policy.get("value") if isinstance(policy, dict) else policy) == "compact"


def test_restarting_the_serving_process_loses_no_user(stack, client, settings):
    send(settings, events("rita", "product_view", ["shoe-1", "shoe-2"], "shoes"))
    eventually(lambda: profile_count(client, "rita") == 2, what="rita's profile")
    # lists and profiles are separate transactions: wait for rita's list too
    eventually(lambda: not client.recommendations("rita", 5).cold_start, what="rita's list")
    users = ["ann", "bea", "pia", "dan", "rita"]
    before = {u: (client.recommendations(u, 10), client.profile(u)) for u in users}
    stack.server.stop()
    send(settings, events("sam", "product_view", ["shoe-3"], "shoes"))  # while serving is down
    stack.start_server()
    assert not any(recs.cold_start for recs, _ in before.values())
    for user, (recs, profile) in before.items():
        now = client.recommendations(user, 10)
        assert not now.cold_start, user
        assert client.profile(user).event_count >= profile.event_count, user
        # the stored pool, or a newer one: never an older one. The job may republish any
        # user's pool meanwhile (sam's event moves the shared top lists the pools are built
        # from), so "the same pool" would be the wrong claim (and failed when that came first)
        assert now.updated_at_ms >= recs.updated_at_ms, user
    eventually(lambda: profile_count(client, "sam") == 1, what="event sent while down")


def test_every_response_is_logged_as_an_impression(client, settings):
    send(settings, events("ivy", "product_view", ["shoe-1"], "shoes"))
    eventually(lambda: not client.recommendations("ivy", 3).cold_start, what="ivy's list")
    context = pb.Context(device="mobile", country="DE", ts=int(time.time() * 1000))
    reply = client.recommendations("ivy", 3, context=context)
    consumer = KafkaConsumer(settings.topic_impressions,
                             bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=1000)
    found: list[dict] = []

    def logged():
        found.extend(json.loads(m.value) for m in consumer)
        return next((i for i in found if i["request_id"] == reply.request_id), None)

    record = eventually(logged, 30, "the impression of the request")
    consumer.close()
    assert record["user_id"] == key_of(settings, "ivy") and record["k"] == 3
    assert [i["item_id"] for i in record["items"]] == [i.item_id for i in reply.items]
    assert [i["position"] for i in record["items"]] == list(range(len(reply.items)))
    assert {i["propensity"] for i in record["items"]} == {reply.items[0].propensity}
    assert 0 < reply.items[0].propensity <= 1
    assert record["arm"] == reply.arm and record["policy"] == settings.policy
    assert record["features"]["bias"] == 1.0 and record["features"]["device:mobile"] == 1.0
    assert record["context"]["device"] == "mobile" and record["model_version"]


def latest_by_key(settings, topic: str, parse: Callable[[bytes], T]) -> dict[bytes, T]:
    """The latest committed record per key of a compacted topic."""
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000,
                             isolation_level="read_committed")
    latest = {message.key: parse(message.value) for message in consumer
              if message.value is not None}  # tombstones: other tests' forgotten users
    consumer.close()
    return latest


def policy_rewards(client: RecoClient, user: str) -> int:
    return int(client.recommendations(user, 1).policy_version.rpartition("@")[2])


def test_the_loop_closes_a_click_on_what_was_shown_updates_the_policy_serving_uses(
        client, settings):
    send(settings, events("lea", "product_view", ["shoe-1", "bag-1"], "shoes"))
    eventually(lambda: not client.recommendations("lea", 3).cold_start, what="lea's list")
    before = policy_rewards(client, "lea")
    reply = client.recommendations("lea", 5)
    clicked = reply.items[0].item_id
    send(settings, [Event(f"lea-click-{next(_ids)}", "click", "lea",
                          ts=int(time.time() * 1000), item_id=clicked, category="shoes",
                          request_id=reply.request_id)])
    eventually(lambda: policy_rewards(client, "lea") > before, 60,
               "the click's reward in the policy serving uses")
    shards = latest_by_key(settings, settings.topic_policy, pb.PolicyParameters.FromString)
    arms = [a for shard in shards.values() for a in shard.arms if a.arm == reply.arm]
    # the click, at the top of the page: each of the response's items weighs 1/n of it
    assert sum(a.reward_sum for a in arms) >= settings.reward_click / len(reply.items) * 0.99


def test_retrained_item_factors_reach_the_job_and_users_are_folded_into_them(client,
                                                                          settings):
    from jobs.train_factors import main as train_factors

    shoppers = [e for n in range(6) for e in
                events(f"fan-{n}", "product_view", ["hat-1", "hat-2", "hat-3"], "hats")]
    send(settings, shoppers)
    eventually(lambda: profile_count(client, "fan-5") == 3, what="the fans' events")
    assert train_factors(["--factors", "4", "--iterations", "4"], settings) == 0
    time.sleep(2)  # the chunks reach every instance of the user operator by broadcast

    [version] = {c.version for c in latest_by_key(
        settings, settings.topic_item_factors, pb.ItemFactorsChunk.FromString).values()}
    lists = KafkaConsumer(settings.topic_recommendations,
                          bootstrap_servers=settings.kafka_bootstrap,
                          auto_offset_reset="earliest", consumer_timeout_ms=1000,
                          isolation_level="read_committed")
    published: dict[bytes, pb.RecommendationList] = {}

    def factorised():
        # the published pool, not the served blend: which source an item is served under
        # depends on the mix (hal's hats co-occur too), its presence in the pool does not
        send(settings, events("hal", "product_view", ["hat-1"], "hats"))
        published.update((m.key, pb.RecommendationList.FromString(m.value)) for m in lists
                         if m.value is not None)
        hal = published.get(key_of(settings, "hal").encode())
        return [i for i in hal.items if i.source == "factors"] if hal else []

    items = eventually(factorised, 60, "items from the factors in hal's published list")
    lists.close()
    assert {i.reason for i in items} == {f"factors:{version}"}
    assert items[0].item_id in {"hat-1", "hat-2", "hat-3"}
    assert items[0].score == 1.0  # scaled within the source
