"""Every placement with filters through the real stack: a feed loaded with ``reco items load``,
events into Kafka, the job on a Flink MiniCluster, the server over gRPC. Complementary items
come from baskets; a catalog item without events shows on the page of an item like it; each
filter kind holds end to end."""

from __future__ import annotations

import time
import uuid

import grpc
import numpy as np
import pytest

from app.cli import main as reco
from infra.client import RecoClient
from infra.producer import EventProducer
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration

# id: (category path, brand, price, labels, availability)
# id: (the catalog path's top level, brand, price, labels, availability); the path's leaf is
# the run's own category (the job takes an item's category from the catalog: its leaf)
PRODUCTS = {"shoe": ("Shoes", "Acme", 80, "", "in stock"),
            "boot": ("Shoes", "Acme", 95, "", "in stock"),
            "sock": ("Socks", "Knit", 5, "sale", "in stock"),
            "lace": ("Laces", "Knit", 2, "", "in stock"),
            "wax": ("Care", "Zeta", 9, "sale", "in stock"),
            "gone": ("Care", "Zeta", 7, "", "out of stock")}


TITLES = {"shoe": "Trail running shoe", "boot": "Leather boot"}


def load_feed(settings, tmp_path, monkeypatch, run: str) -> None:
    for name, value in (("KAFKA_BOOTSTRAP", settings.kafka_bootstrap),
                        ("RECO_TOPIC_ITEMS", settings.topic_items),
                        ("RECO_TOPIC_DLQ", settings.topic_dlq)):
        monkeypatch.setenv(name, value)
    feed = tmp_path / "feed.csv"
    rows = [f"{item}-{run},{name},{path} > gear-{run},{brand},{price}.00 EUR,{label},"
            f"{availability}"
            for item, (path, brand, price, label, availability) in PRODUCTS.items()
            for name in [TITLES.get(item, item.title())]]
    # in the catalog, never in an event: it shows on the page of the shoe it looks like
    rows.append(f"fresh-{run},Trail running shoe in red,Shoes > gear-{run},Acme,85.00 EUR,,"
                "in stock")
    feed.write_text("id,title,product_type,brand,price,custom_label_0,availability\n"
                    + "\n".join(rows) + "\n")
    assert reco(["items", "load", str(feed)]) == 0


def shop_events(run: str, now: int) -> list[Event]:
    category = f"gear-{run}"
    events: list[Event] = []

    def add(kind: str, user: str, item: str, at: int) -> None:
        events.append(Event(f"{run}-{len(events)}", kind, user, ts=now + at,
                            item_id=f"{item}-{run}", category=category,
                            price=float(PRODUCTS[item][2]) if kind == "purchase" else None))

    for n, item in enumerate(PRODUCTS):  # a purchase each: the category's trending list
        add("purchase", f"buyer-{run}-{n}", item, n)
    for n, basket in enumerate((["shoe", "sock", "lace", "boot"], ["shoe", "sock"])):
        for m, item in enumerate(basket):  # carted in one session
            add("add_to_cart", f"basket-{run}-{n}", item, 100 + m)
    add("purchase", f"viewer-{run}", "wax", 200)
    add("product_view", f"viewer-{run}", "lace", 201)
    return events


def ids(reply: pb.GetRecommendationsResponse) -> list[str]:
    return [i.item_id for i in reply.items]


def test_complements_from_baskets_and_every_filter_kind_over_grpc(stack, settings, tmp_path,
                                                                   monkeypatch):
    run = uuid.uuid4().hex[:6]
    load_feed(settings, tmp_path, monkeypatch, run)
    with EventProducer(settings) as producer:
        producer.send_all(shop_events(run, int(time.time() * 1000)))
    item = {name: f"{name}-{run}" for name in PRODUCTS}
    viewer, category = f"viewer-{run}", f"gear-{run}"
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def listed(**fields) -> list[str]:
            filters = pb.Filters(include_out_of_stock=True, include_bought=True)
            return ids(client.popular(category, 10, filters=filters, **fields))

        eventually(lambda: set(item.values()) <= set(listed()), 90, "the category's list")
        def viewed() -> list[str]:
            try:
                return list(client.profile(viewer).recent_item_ids)
            except grpc.RpcError as error:  # NOT_FOUND until the job publishes it
                assert error.code() == grpc.StatusCode.NOT_FOUND
                return []

        eventually(lambda: item["lace"] in viewed(), 60, "the viewer's profile")

        def complements() -> list[pb.RecommendedItem]:
            return list(client.complementary([item["shoe"]], 5).items)

        def bought_with_shoe() -> list[str]:
            return [c.item_id for c in complements() if c.reason == f"bought-with:{item['shoe']}"]

        # the sock was carted with the shoe twice, the lace once (a tie until the second basket)
        eventually(lambda: bought_with_shoe()[:2] == [item["sock"], item["lace"]], 60,
                   "complements from baskets")
        answer = ids(client.complementary([item["shoe"]], 5))
        assert item["shoe"] not in answer and item["boot"] not in answer  # a substitute
        page = client.similar(item["shoe"], 10).items
        assert f"fresh-{run}" in {i.item_id for i in page
                                   if i.reason == f"new:similar-to={item['shoe']}"}
        check_filters(client, category, viewer, item)


def check_filters(client: RecoClient, category: str, viewer: str, item: dict[str, str]
                  ) -> None:
    """One check per filter kind on the category's popular items (six of them, one out of
    stock, one bought and one just viewed by the viewer). Other tests' items may top an answer
    up from the global list: checks look at the category's own items, and at all items where
    the filter must hold for every one."""
    def asked(k: int = 10, **filters) -> list[str]:
        """The category's own items in the answer (not the global list's topping it up)."""
        reply = client.popular(category, k, user_id=viewer, filters=pb.Filters(**filters))
        return [i.item_id for i in reply.items if i.reason != "popular:top-up"]

    everything = set(asked(include_out_of_stock=True, include_bought=True))
    assert everything == set(item.values())
    default = set(asked())
    assert item["gone"] not in default and item["wax"] not in default  # sold out; bought
    knit = [item["sock"], item["lace"]]
    assert set(asked(include_brands=["KNIT"], include_bought=True)) == set(knit)
    assert item["shoe"] not in asked(exclude_brands=["acme"]) and item["sock"] in default
    assert set(asked(include_categories=["socks"])) == {item["sock"]}
    assert item["sock"] not in asked(exclude_categories=["Socks"])
    assert set(asked(include_labels=["sale"], include_bought=True)) == {item["sock"], item["wax"]}
    assert item["sock"] not in asked(exclude_labels=["sale"])
    assert set(asked(min_price=3.0, max_price=50.0)) == {item["sock"]}  # wax bought, lace 2
    assert item["gone"] in asked(include_out_of_stock=True)
    assert item["lace"] not in asked(exclude_viewed_minutes=60) and item["lace"] in default
    shoes = {item["shoe"], item["boot"]}
    assert len(asked(max_per_category=1)) == 1 and shoes <= default  # one leaf: gear-<run>
    assert len(shoes & set(asked(max_per_brand=1))) == 1
    promoted = asked(2, include_bought=True, promotion=pb.Promotion(label="sale", min_items=2))
    assert set(promoted) == {item["sock"], item["wax"]}
    assert asked(3, pinned_item_ids=[item["lace"]])[0] == item["lace"]
    personal = client.recommendations(viewer, 10, filters=pb.Filters(include_brands=["knit"]))
    assert personal.items and {i.item_id for i in personal.items} <= set(knit)
    cheap = [i.item_id for i in client.similar(item["shoe"], 10,
                                               filters=pb.Filters(max_price=10.0)).items
             if i.reason != "popular:top-up"]
    assert cheap and set(cheap) <= {item["sock"], item["lace"], item["wax"]}


def test_a_product_page_shows_the_factor_neighbours_of_the_last_training(stack, settings):
    from jobs.train_factors import publish
    from online_models.factors import ItemFactors

    run = uuid.uuid4().hex[:6]
    left, near, far = (f"{name}-{run}" for name in ("left", "near", "far"))
    factors = ItemFactors(f"test-{run}", [left, near, far],
                          np.array([[1.0, 0.0], [0.9, 0.2], [-1.0, 0.3]]), 0.1, 1.0)
    assert publish(settings, factors) == 1
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def page() -> list[tuple[str, str]]:
            return [(i.item_id, i.reason) for i in client.similar(left, 5).items]

        # no event and no catalog record: only the factors know these items
        eventually(lambda: (near, f"factors:similar-to={left}") in page(), 60,
                   "the factor neighbour on the product page")
        assert far not in [item for item, _ in page()]  # it points the other way
