"""The product catalog: feed rows into items (pure), and the server keeping what cannot be
bought out of every answer (a real store, the servicer's answer logic)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from online_models.mixes import ARMS
from reco.catalog import FeedError, item_from_row, items_from_rows, read_feed, same_product
from reco.config import Settings
from reco.impressions import parse_impression
from reco.keys import GLOBAL_LIST, category_key, new_items_key
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import DISCONTINUED, IN_STOCK, OUT_OF_STOCK, Item
from serving.impressions import impression_json
from serving.loader import availability_change
from serving.requests import popular_request_problem, similar_request_problem
from serving.servicer import RecommendationsServicer
from serving.store import ITEMS, POPULAR_LISTS, RECOMMENDATIONS, Change, Store

FIXED = Settings(policy="fixed:personal")
NOW = 1_796_000_000_000


def listing(user: str, items: list[str]) -> bytes:
    return pb.RecommendationList(user_id=user, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), source="recent", reason="recent")
        for n, i in enumerate(items)]).SerializeToString()


def test_google_merchant_columns_map_without_configuration():
    item = item_from_row({"id": "A1", "title": "Sock", "description": "wool",
                          "availability": "in stock", "price": "4,50 eur", "brand": "Knit",
                          "google_product_category": "Apparel > Socks",
                          "image_link": "https://x/a.png", "custom_label_0": "sale",
                          "material": "wool"})
    assert (item.item_id, item.title, item.brand, item.price, item.currency) == \
        ("A1", "Sock", "Knit", 4.5, "EUR")
    assert item.availability == IN_STOCK and list(item.category_path) == ["Apparel", "Socks"]
    assert list(item.labels) == ["sale"] and dict(item.attributes) == {"material": "wool"}
    assert item.image_url == "https://x/a.png"


@pytest.mark.parametrize("row,reason", [
    ({"id": "x", "price": "cheap"}, "price 'cheap'"),
    ({"id": "x", "availability": "maybe"}, "availability 'maybe'"),
    ({"id": "\x00bad"}, "control characters"),
    ({"title": "no id"}, "empty id")])
def test_a_bad_row_gives_its_reason(row, reason):
    [(line, found)] = list(items_from_rows([row], first_line=7))
    assert line == 7 and isinstance(found, str) and reason in found


@given(st.dictionaries(st.text(max_size=20), st.one_of(st.none(), st.text(max_size=40),
                                                       st.integers(), st.floats())))
def test_any_row_is_an_item_or_a_reason_never_an_exception(row):
    [(_, found)] = list(items_from_rows([row]))
    assert isinstance(found, Item | str)


def test_a_feed_without_an_id_column_is_refused_naming_the_columns(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,title\n1,Sock\n")
    with pytest.raises(FeedError, match=r"no id column.*sku, title.*expected 'id'"):
        list(read_feed(feed))


def test_feeds_in_every_format_give_lines_and_items(tmp_path):
    (tmp_path / "f.tsv").write_text("id\ttitle\tavailability\na\tA\tout of stock\nb\tB\tlater\n")
    (tmp_path / "f.jsonl").write_text('{"id": "a", "title": "A"}\n[1]\n')
    (line, first), (second_line, second) = read_feed(tmp_path / "f.tsv")
    assert line == 2 and isinstance(first, Item) and first.availability == OUT_OF_STOCK
    assert second_line == 3 and "availability 'later'" in str(second)
    (_, good), bad = read_feed(tmp_path / "f.jsonl")
    assert isinstance(good, Item) and good.item_id == "a"
    assert bad == (2, "not a JSON object: not a JSON object")


def test_bookkeeping_times_do_not_make_a_change():
    a = Item(item_id="a", title="A", created_ms=1, updated_ms=2)
    assert same_product(a, Item(item_id="a", title="A", created_ms=5, updated_ms=9))
    assert not same_product(a, Item(item_id="a", title="A", availability=OUT_OF_STOCK))


def test_what_cannot_be_bought_leaves_every_answer_and_comes_back(tmp_path):
    store = Store(tmp_path / "db")
    store.apply([Change(RECOMMENDATIONS, "u1", listing("u1", ["a", "b", "c"])),
                 Change(POPULAR_LISTS, GLOBAL_LIST, listing(GLOBAL_LIST, ["b", "p", "q"]))], {})
    servicer = RecommendationsServicer(store, FIXED)

    def served(user: str) -> list[str]:
        reply = servicer.recommend(pb.GetRecommendationsRequest(user_id=user, k=10)).response
        return [i.item_id for i in reply.items]

    assert "b" in served("u1") and "b" in served("new-user")
    for change, gone in ((Item(item_id="b", availability=OUT_OF_STOCK), True),
                         (Item(item_id="b", availability=IN_STOCK), False),
                         (Item(item_id="b", availability=DISCONTINUED), True),
                         (None, True)):  # deleted from the catalog
        record = change.SerializeToString() if change is not None else None
        store.apply([availability_change("b", record)], {})
        assert ("b" not in served("u1")) is gone and ("b" not in served("new-user")) is gone
        assert "a" in served("u1")
    store.close()


def test_similar_items_come_from_co_occurrence_and_never_hold_what_cannot_be_bought(tmp_path):
    store = Store(tmp_path / "db")
    shoe = pb.ItemFeatures(item_id="shoe", category="shoes", co_occurring=[
        pb.ItemAffinity(item_id=i, affinity=a) for i, a in (("sock", 5), ("lace", 3),
                                                            ("bag", 1))])
    store.apply([Change(ITEMS, "shoe", shoe.SerializeToString()),
                 Change(POPULAR_LISTS, GLOBAL_LIST, listing(GLOBAL_LIST, ["hat", "sock"])),
                 availability_change("lace", None)], {})
    servicer = RecommendationsServicer(store, FIXED)
    answer = servicer.similar(pb.GetSimilarItemsRequest(item_id="shoe", k=4))
    assert [(i.item_id, i.source) for i in answer.response.items] == \
        [("sock", "cooccur"), ("bag", "cooccur"), ("hat", "popular")]
    assert answer.response.items[2].reason == "popular:top-up"
    assert all(i.propensity == 1.0 for i in answer.response.items) and answer.response.request_id
    unknown = servicer.similar(pb.GetSimilarItemsRequest(item_id="nothing", k=2)).response
    assert [i.reason for i in unknown.items] == ["popular:no-similar-items"] * 2
    store.close()


def test_a_similar_items_impression_names_its_placement():
    record = json.loads(impression_json(pb.GetRecommendationsRequest(user_id="u", k=2),
                                        pb.GetRecommendationsResponse(request_id="r"), NOW, {},
                                        "[]", placement="similar"))
    assert record["placement"] == "similar" and record["arm"] == ""
    parsed = parse_impression(json.dumps(record).encode(), now_ms=NOW,
                                  arms=frozenset(ARMS))
    assert parsed.request_id == "r"


@pytest.mark.parametrize("request_fields,field", [
    ({"item_id": "", "k": 3}, "item_id"), ({"item_id": "x" * 300, "k": 3}, "item_id"),
    ({"item_id": "a", "k": 0}, "k must be"), ({"item_id": "a", "k": 3, "user_id": "u" * 300},
                                               "user_id")])
def test_bad_similar_items_requests_name_the_field(request_fields, field):
    assert field in (similar_request_problem(pb.GetSimilarItemsRequest(**request_fields)) or "")


def test_popular_items_by_category_trending_or_new_topped_up_from_the_global_list(tmp_path):
    store = Store(tmp_path / "db")
    store.apply([Change(POPULAR_LISTS, category_key("shoes"), listing("shoes", ["run", "trail"])),
                 Change(POPULAR_LISTS, new_items_key("shoes"), listing("shoes", ["fresh"])),
                 Change(POPULAR_LISTS, GLOBAL_LIST, listing(GLOBAL_LIST, ["hat", "run"])),
                 availability_change("trail", None)], {})
    servicer = RecommendationsServicer(store, FIXED)

    def ask(**fields):
        return [(i.item_id, i.reason) for i in
                servicer.popular(pb.GetPopularItemsRequest(k=3, **fields)).response.items]

    assert ask(category="shoes") == [("run", "recent"), ("hat", "popular:top-up")]
    assert ask(category="shoes", by="new")[0] == ("fresh", "recent")
    assert ask() == [("hat", "recent"), ("run", "recent")]
    assert ask(category="nothing")[0] == ("hat", "popular:top-up")
    store.close()


@pytest.mark.parametrize("fields,says", [({"by": "likes", "k": 3}, "by 'likes' is not one of"),
                                         ({"category": "c" * 300, "k": 3}, "category"),
                                         ({"k": 101}, "k must be")])
def test_bad_popular_requests_name_the_field(fields, says):
    assert says in (popular_request_problem(pb.GetPopularItemsRequest(**fields)) or "")
