"""Valid but hostile records through the real stack (Kafka, the job on a MiniCluster, the gRPC
server over a socket): each is learned, handled as documented or dead-lettered with its
reason, the job stays RUNNING with no restart, and the events after it are processed
(issue: one record kills the job)."""

from __future__ import annotations

import itertools
import json
import time

import grpc
import pytest
from kafka import KafkaConsumer

from infra.client import RecoClient
from infra.flink_rest import flink_job_restarts, flink_job_running
from infra.producer import EventProducer
from reco.events import Event
from reco.keys import FACTORS_PREFIX, GLOBAL_LIST, NEW_ITEMS_PREFIX, POPULAR_LIST
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000
_ids = itertools.count()


def now_ms() -> int:
    return int(time.time() * 1000)


def view(user: str, item: str, category: str = "hostile", ts: int | None = None) -> Event:
    return Event(f"hostile-{next(_ids)}", "product_view", user, ts=ts or now_ms(),
                 item_id=item, category=category)


@pytest.fixture
def client(stack, settings):
    with RecoClient(settings.grpc_addr, timeout_s=5) as c:
        yield c


def job_is_healthy(settings) -> None:
    assert flink_job_running(settings.flink_rest_port), "the job is not RUNNING"
    assert flink_job_restarts(settings.flink_rest_port) == 0


def event_count(client: RecoClient, user: str) -> int:
    try:
        return client.profile(user).event_count
    except grpc.RpcError:
        return 0


def dead_letters(settings, want: int, what: str) -> list[dict]:
    consumer = KafkaConsumer(settings.topic_dlq, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=1000)
    letters: list[dict] = []

    def enough() -> bool:
        letters.extend(json.loads(m.value) for m in consumer)
        return sum(what in letter.get("raw", "") for letter in letters) >= want

    try:
        eventually(enough, 60, f"{want} dead letters of {what}")
    finally:
        consumer.close()
    return [letter for letter in letters if what in letter.get("raw", "")]


def test_one_event_sixty_days_late_is_learned_and_the_job_stays_up(client, settings):
    crowd = [view(f"late-crowd-{n % 20}", f"late-item-{n % 5}", "late-cat") for n in range(100)]
    old = view("late-newcomer", "late-item-0", "late-cat", ts=now_ms() - 60 * DAY_MS)
    with EventProducer(settings) as producer:
        producer.send_all([*crowd, old])
    eventually(lambda: event_count(client, "late-newcomer") == 1, 60, "the late event learned")
    reply = eventually(lambda: (r := client.recommendations("late-newcomer", 10)).items
                       and not r.cold_start and r, 60, "a personal list for the late user")
    assert "late-item-0" in {i.item_id for i in reply.items}
    job_is_healthy(settings)
    with EventProducer(settings) as producer:
        producer.send_all([view("late-newcomer", "late-item-1", "late-cat"),
                           view("late-crowd-0", "late-item-2", "late-cat")])
    eventually(lambda: event_count(client, "late-newcomer") == 2, 60, "the next event learned")
    job_is_healthy(settings)


def test_hostile_fields_are_dead_lettered_or_dropped_and_the_job_stays_up(client, settings):
    topic = f"{settings.event_topic_prefix}product_view"
    ts = now_ms()

    def raw(user: str, **fields: object) -> bytes:
        doc = {"event_id": f"hostile-{next(_ids)}", "event_type": "product_view",
               "user_id": user, "item_id": "hf-1", "ts": ts, "category": "hf", **fields}
        return json.dumps(doc).encode()  # lone surrogates go as JSON escapes, as sent

    dead = [raw("hf-surrogate-user\ud800"), raw("hf-u", item_id="hf\udfff"),
            raw("hf-u", category="c\ud800"), raw("hf-u", event_id="e\ud800"),
            raw("hf-u", device="d\ud800"), raw("hf-future", ts=ts + 45 * DAY_MS)]
    zones = [raw("hf-zone-1", timezone="Europe"), raw("hf-zone-2", timezone="America/Argentina"),
             raw("hf-zone-3", timezone="x" * 300)]
    impression = json.dumps({"request_id": "hf-r\ud800", "user_id": "hf-zone-1",
                             "served_at_ms": 10**20, "items": []}).encode()
    with EventProducer(settings) as producer:
        for record in [*dead, *zones]:
            producer.send_raw(topic, record, key=b"hostile")
        producer.send_raw(settings.topic_impressions, impression, key=b"hostile")
    for user in ("hf-zone-1", "hf-zone-2", "hf-zone-3"):
        eventually(lambda: event_count(client, user) == 1, 60, f"{user} learned")  # noqa: B023
    # each refused record names an item or a category "hf..." (its user id is pseudonymous)
    letters = dead_letters(settings, len(dead), '"hf')
    reasons = " | ".join(letter["reason"] for letter in letters)
    for field in ("user_id", "item_id", "category", "event_id", "device"):
        assert f"{field} is not well-formed Unicode" in reasons
    assert "in the future" in reasons
    job_is_healthy(settings)


def test_ids_and_categories_equal_to_internal_keys_change_nothing_shared(client, settings):
    internal = [POPULAR_LIST, GLOBAL_LIST, "__popular__", "__popular__:0", "segment:0",
                f"{FACTORS_PREFIX}0", "__factors__:0", f"{NEW_ITEMS_PREFIX}ik",
                "new:ik", "category/ik"]
    crowd = [view(f"ik-crowd-{n % 4}", f"ik-item-{n % 3}", "ik") for n in range(40)]
    hostile = [view(key, f"ik-leak-{n}", category=key) for n, key in enumerate(internal)]
    with EventProducer(settings) as producer:
        producer.send_all([*crowd, *hostile])
    for n, key in enumerate(internal):
        reply = eventually(lambda: (r := client.recommendations(key, 20)).items  # noqa: B023
                           and not r.cold_start and r, 60, f"{key!r}'s own list")
        assert f"ik-leak-{n}" in {i.item_id for i in reply.items}
    # the cold-start list is what everybody does (the crowd's items among it), not one user's
    # list: before the fix, the user "__popular__" overwrote it with her recent items
    crowd_items = {f"ik-item-{n}" for n in range(3)}
    stranger = eventually(lambda: (r := client.recommendations("ik-stranger", 100)).items
                          and crowd_items <= {i.item_id for i in r.items} and r, 60,
                          "the crowd's items in the cold-start list")
    assert stranger.cold_start
    assert {i.reason.partition(":")[0] for i in stranger.items} == {"popular"}
    job_is_healthy(settings)


def test_hostile_requests_get_invalid_argument_naming_the_field(client, settings):
    bad_contexts = [(pb.Context(timezone="Europe"), "context.timezone"),
                    (pb.Context(timezone="x" * 300), "context.timezone"),
                    (pb.Context(ts=10**15), "context.ts"),
                    (pb.Context(ts=2**63 - 1), "context.ts"),
                    (pb.Context(ts=-(2**63)), "context.ts"),
                    (pb.Context(region="r" * 1_000_000), "context.region"),
                    (pb.Context(extra={"k": "v" * 1_000_000}), "context.extra")]
    with grpc.insecure_channel(settings.grpc_addr) as channel:
        stub = channel.unary_unary("/reco.v1.Recommendations/GetRecommendations",
                                   request_serializer=lambda b: b,
                                   response_deserializer=pb.GetRecommendationsResponse.FromString)
        for context, field in bad_contexts:
            request = pb.GetRecommendationsRequest(user_id="hr", k=5, context=context)
            with pytest.raises(grpc.RpcError) as caught:
                stub(request.SerializeToString(), timeout=5)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.details().startswith(field)
        for garbage in (b"\xff\xff\xff", b"\x0a\x02\xff\xfe"):  # not protobuf; bad UTF-8
            with pytest.raises(grpc.RpcError) as caught:
                stub(garbage, timeout=5)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert client.recommendations("hr", 3) is not None  # the server still answers
