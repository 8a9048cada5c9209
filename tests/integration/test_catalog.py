"""The product catalog through the real stack: a feed loaded with ``reco items load`` into the
compacted ``items`` topic, the server materialising it, and an item set out of stock leaving
every answer (the personal list and the product page's similar items); bad rows
dead-lettered with their line, the good ones loaded."""

from __future__ import annotations

import json
import time
import uuid

import grpc
import pytest
from kafka import KafkaConsumer

from app.cli import main as reco
from infra.client import RecoClient
from infra.producer import EventProducer
from reco.events import Event
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration


def served(client: RecoClient, user: str) -> set[str]:
    return {i.item_id for i in client.recommendations(user, 20).items}


def similar(client: RecoClient, item: str) -> set[str]:
    return {i.item_id for i in client.similar(item, 10).items if i.source == "cooccur"}


def test_an_item_out_of_stock_leaves_the_answers_and_bad_rows_are_dead_lettered(
        stack, settings, tmp_path, monkeypatch):
    for name, value in (("KAFKA_BOOTSTRAP", settings.kafka_bootstrap),
                        ("RECO_TOPIC_ITEMS", settings.topic_items),
                        ("RECO_TOPIC_DLQ", settings.topic_dlq)):
        monkeypatch.setenv(name, value)
    run = uuid.uuid4().hex[:6]
    user, shoe, sock = f"cat-{run}", f"shoe-{run}", f"sock-{run}"
    feed = tmp_path / "feed.csv"
    feed.write_text(f"id,title,availability,price\n{shoe},Shoe,in stock,89.90 EUR\n"
                    f"{sock},Sock,in stock,4.50 EUR\nbad-{run},Broken,in stock,cheap\n")
    assert reco(["items", "load", str(feed)]) == 0
    now = int(time.time() * 1000)
    with EventProducer(settings) as producer:
        producer.send_all([Event(f"{run}-{n}", "product_view", user, ts=now + n, item_id=item,
                                 category="apparel") for n, item in enumerate((shoe, sock))])
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        eventually(lambda: {shoe, sock} <= served(client, user), 60, "both items served")
        # seen in one session: each is the other's similar item on its product page
        eventually(lambda: shoe in similar(client, sock), 60, "the shoe similar to the sock")
        feed.write_text(f"id,title,availability,price\n{shoe},Shoe,out of stock,89.90 EUR\n"
                        f"{sock},Sock,in stock,4.50 EUR\n")
        assert reco(["items", "load", str(feed)]) == 0
        eventually(lambda: shoe not in served(client, user), 10, "the sold-out shoe gone")
        assert sock in served(client, user)
        assert shoe not in {i.item_id for i in client.similar(sock, 10).items}
    consumer = KafkaConsumer(settings.topic_dlq, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    letters = [json.loads(m.value) for m in consumer]
    consumer.close()
    ours = [x for x in letters if x.get("file") == str(feed)]
    assert [(x["line"], "price 'cheap'" in x["reason"]) for x in ours] == [(4, True)]


def test_a_categorys_trending_new_and_best_selling_items_follow_its_events(stack, settings):
    run = uuid.uuid4().hex[:6]
    category, items = f"hats-{run}", [f"hat-{run}-{n}" for n in range(3)]
    now = int(time.time() * 1000)
    with EventProducer(settings) as producer:
        producer.send_all([Event(f"{run}-p{n}", "purchase", f"buyer-{run}-{n}", ts=now + n,
                                 item_id=item, category=category, price=10.0)
                           for n, item in enumerate(items)])
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def trending() -> set[str]:
            reply = client.popular(category, 10)
            return {i.item_id for i in reply.items
                    if i.reason == f"trending:category={category}"}

        eventually(lambda: set(items) <= trending(), 60, "the category's trending list")
        newest = {i.item_id for i in client.popular(category, 10, by="new").items}
        assert set(items) <= newest

        def best_sellers() -> set[str]:
            reply = client.popular(category, 10, by="purchases")
            return {i.item_id for i in reply.items
                    if i.reason == f"best-sellers:category={category}"}

        eventually(lambda: set(items) <= best_sellers(), 30, "the category's best sellers")
        elsewhere = client.popular(f"nothing-{run}", 3)
        assert all(i.reason == "popular:top-up" for i in elsewhere.items)


def test_bad_placement_requests_get_invalid_argument_naming_the_field(stack, settings):
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        for call, field in ((lambda: client.popular("shoes", 5, by="likes"), "by 'likes'"),
                            (lambda: client.similar("", 5), "item_id"),
                            (lambda: client.similar("x", 0), "k must be")):
            with pytest.raises(grpc.RpcError) as caught:
                call()
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field in caught.value.details()
