"""The product catalog: feed rows into items (pure), and the server keeping what cannot be
bought out of every answer (a real store, the servicer's answer logic)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reco.catalog import FeedError, item_from_row, items_from_rows, read_feed, same_product
from reco.config import Settings
from reco.keys import GLOBAL_LIST
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import DISCONTINUED, IN_STOCK, OUT_OF_STOCK, Item
from serving.loader import availability_change
from serving.servicer import RecommendationsServicer
from serving.store import POPULAR_LISTS, RECOMMENDATIONS, Change, Store

FIXED = Settings(policy="fixed:personal")


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
    with pytest.raises(FeedError, match="no id column.*sku, title.*expected 'id'"):
        list(read_feed(feed))


def test_feeds_in_every_format_give_lines_and_items(tmp_path):
    (tmp_path / "f.tsv").write_text("id\ttitle\tavailability\na\tA\tout of stock\nb\tB\tlater\n")
    (tmp_path / "f.jsonl").write_text('{"id": "a", "title": "A"}\n[1]\n')
    tsv = list(read_feed(tmp_path / "f.tsv"))
    assert tsv[0][0] == 2 and tsv[0][1].availability == OUT_OF_STOCK
    assert tsv[1][0] == 3 and "availability 'later'" in tsv[1][1]
    jsonl = list(read_feed(tmp_path / "f.jsonl"))
    assert jsonl[0][1].item_id == "a" and jsonl[1] == (2, "not a JSON object: not a JSON object")


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
