"""The complementary placement and the filters on every placement, through the servicer's
answer logic over a real store (the property tests of the selection are in test_filters.py)."""

from __future__ import annotations

import pytest

from reco.config import Settings
from reco.keys import GLOBAL_LIST
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import OUT_OF_STOCK, Item
from serving.content import ContentIndex
from serving.loader import availability_change, catalog_record
from serving.requests import complementary_request_problem, filters_problem
from serving.servicer import RecommendationsServicer
from serving.store import CATALOG, ITEMS, POPULAR_LISTS, PROFILES, RECOMMENDATIONS, Change, Store

FIXED = Settings(policy="fixed:personal")
NOW = 1_796_000_000_000
CATALOG_ITEMS = {
    "shoe": Item(item_id="shoe", category_path=["Shoes"], brand="Acme", price=80.0),
    "boot": Item(item_id="boot", category_path=["Shoes"], brand="Acme", price=95.0),
    "gala": Item(item_id="gala", category_path=["Shoes"], brand="Zeta", price=400.0),
    "sock": Item(item_id="sock", category_path=["Socks"], brand="Knit", price=5.0,
                 labels=["sale"]),
    "lace": Item(item_id="lace", category_path=["Laces"], brand="Knit", price=2.0),
    "wax": Item(item_id="wax", category_path=["Care"], brand="Zeta", price=9.0,
                labels=["sale"]),
    "gone": Item(item_id="gone", category_path=["Care"], availability=OUT_OF_STOCK),
}


def ranked(user: str, items: list[str], source: str = "recent") -> bytes:
    return pb.RecommendationList(user_id=user, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), source=source, reason=source)
        for n, i in enumerate(items)]).SerializeToString()


@pytest.fixture
def servicer(tmp_path):
    store = Store(tmp_path / "db")
    changes = []
    for item_id, item in CATALOG_ITEMS.items():
        raw = item.SerializeToString()
        changes += [Change(CATALOG, item_id, raw), availability_change(item_id, raw)]
    shoe = pb.ItemFeatures(item_id="shoe", category="Shoes", first_seen_ms=NOW, bought_with=[
        pb.ItemAffinity(item_id=i, affinity=a)
        for i, a in (("boot", 9), ("sock", 6), ("gone", 5), ("lace", 3))])
    sock = pb.ItemFeatures(item_id="sock", category="Socks", first_seen_ms=NOW, bought_with=[
        pb.ItemAffinity(item_id="wax", affinity=2), pb.ItemAffinity(item_id="lace", affinity=2)])
    changes += [Change(ITEMS, "shoe", shoe.SerializeToString()),
                Change(ITEMS, "sock", sock.SerializeToString()),
                Change(POPULAR_LISTS, GLOBAL_LIST,
                       ranked(GLOBAL_LIST, ["gala", "wax", "boot", "sock", "lace"], "popular")),
                Change(RECOMMENDATIONS, "u1", pb.RecommendationList(
                    user_id="u1", items=[pb.RecommendedItem(item_id=i, score=s, source="recent")
                                         for i, s in (("shoe", 1.0), ("gala", 0.8),
                                                      ("sock", 0.5))],
                    excluded_item_ids=["wax"]).SerializeToString()),
                Change(PROFILES, "u1", pb.UserProfile(
                    user_id="u1", recent_item_ids=["sock", "shoe"],
                    recent_item_ts_ms=[NOW - 60_000, NOW - 3_600_000]).SerializeToString())]
    store.apply(changes, {})
    yield RecommendationsServicer(store, FIXED)
    store.close()


def ids(answer) -> list[str]:
    return [i.item_id for i in answer.response.items]


def test_complements_come_from_baskets_without_the_basket_nor_its_substitutes(servicer):
    answer = servicer.complementary(pb.GetComplementaryItemsRequest(item_ids=["shoe"], k=4),
                                    NOW)
    # boot: a substitute (same category, price within 1.5x); gone: out of stock; gala: same
    # category at five times the price, so not a substitute
    assert ids(answer) == ["sock", "lace", "gala", "wax"]
    reasons = [i.reason for i in answer.response.items]
    assert reasons[:2] == ["bought-with:shoe"] * 2 and reasons[2:] == ["popular:top-up"] * 2
    basket = servicer.complementary(pb.GetComplementaryItemsRequest(
        item_ids=["shoe", "sock"], k=3), NOW)
    assert ids(basket) == ["lace", "wax", "gala"]  # lace: from both, summed


@pytest.mark.parametrize("filters,expected", [
    (pb.Filters(include_brands=["knit"]), ["sock", "lace"]),
    (pb.Filters(exclude_categories=["shoes"]), ["wax", "sock", "lace"]),
    (pb.Filters(max_price=10.0), ["wax", "sock", "lace"]),
    (pb.Filters(min_price=50.0), ["gala", "boot"]),
    (pb.Filters(include_labels=["sale"]), ["wax", "sock"]),
    (pb.Filters(max_per_brand=1), ["gala", "boot", "sock"]),
    (pb.Filters(promotion=pb.Promotion(label="sale", min_items=2)), ["gala", "wax", "sock"]),
    (pb.Filters(pinned_item_ids=["lace", "gone"]), ["lace", "gala", "wax"]),
    (pb.Filters(include_out_of_stock=True, pinned_item_ids=["gone"]), ["gone", "gala", "wax"]),
])
def test_popular_items_hold_every_filter(servicer, filters, expected):
    answer = servicer.popular(pb.GetPopularItemsRequest(k=3, filters=filters), NOW)
    assert ids(answer) == expected


def test_the_personal_list_with_filters_ranks_the_whole_pool_then_tops_up(servicer):
    request = pb.GetRecommendationsRequest(user_id="u1", k=3, filters=pb.Filters(
        exclude_viewed_minutes=10, include_categories=["shoes"]))
    answer = servicer.recommend(request, NOW)
    # sock: viewed a minute ago (and not a shoe); shoe: viewed an hour ago; the top-up: boot
    assert ids(answer) == ["shoe", "gala", "boot"]
    assert answer.response.items[2].reason == "popular:top-up"
    assert answer.response.policy and answer.response.items[0].propensity > 0


def test_bought_items_stay_out_unless_the_request_or_the_shop_allows_them(servicer, tmp_path):
    asked = pb.GetPopularItemsRequest(k=5, user_id="u1")
    assert "wax" not in ids(servicer.popular(asked, NOW))
    asked.filters.include_bought = True
    assert "wax" in ids(servicer.popular(asked, NOW))
    again = RecommendationsServicer(servicer.store, Settings(policy="fixed:personal",
                                                             repurchase_categories="care"))
    assert "wax" in ids(again.popular(pb.GetPopularItemsRequest(k=5, user_id="u1"), NOW))


def test_similar_items_of_an_item_without_signals_fall_back_on_its_catalog_category(servicer):
    popular = pb.RecommendationList(items=[pb.RecommendedItem(item_id="gala", score=1.0)])
    servicer.store.apply([Change(POPULAR_LISTS, "category/Shoes", popular.SerializeToString())],
                         {})
    answer = servicer.similar(pb.GetSimilarItemsRequest(item_id="boot", k=2), NOW)
    assert ids(answer) == ["gala", "wax"]
    assert {i.reason for i in answer.response.items} == {"popular:no-similar-items"}


@pytest.mark.parametrize("filters,says", [
    (pb.Filters(min_price=-1.0), "filters.min_price"),
    (pb.Filters(max_price=float("nan")), "filters.max_price"),
    (pb.Filters(min_price=9.0, max_price=3.0), "above filters.max_price"),
    (pb.Filters(include_brands=[""]), "filters.include_brands"),
    (pb.Filters(exclude_labels=["x"] * 101), "filters.exclude_labels"),
    (pb.Filters(exclude_viewed_minutes=-5), "filters.exclude_viewed_minutes"),
    (pb.Filters(max_per_category=-1), "filters.max_per_category"),
    (pb.Filters(promotion=pb.Promotion(min_items=2)), "filters.promotion.label"),
    (pb.Filters(pinned_item_ids=["x" * 300]), "filters.pinned_item_ids")])
def test_bad_filters_name_the_field(filters, says):
    assert says in (filters_problem(filters) or "")


@pytest.mark.parametrize("fields,says", [
    ({"k": 3}, "item_ids is empty"), ({"item_ids": ["a"] * 101, "k": 3}, "at most 100"),
    ({"item_ids": [""], "k": 3}, "item_ids"), ({"item_ids": ["a"], "k": 0}, "k must be"),
    ({"item_ids": ["a"], "k": 3, "filters": pb.Filters(max_price=-2)}, "filters.max_price")])
def test_bad_complementary_requests_name_the_field(fields, says):
    assert says in (complementary_request_problem(pb.GetComplementaryItemsRequest(**fields))
                    or "")


def test_a_new_catalog_item_shows_on_the_page_of_an_item_like_it(servicer):
    index = ContentIndex(servicer.store, n=5)  # built from the catalog already in the store
    fresh = Item(item_id="fresh", title="Knit wool sock", category_path=["Socks"], brand="Knit",
                 price=6.0)
    index.update("fresh", fresh.SerializeToString())
    servicer.store.apply([*index.flush(), Change(CATALOG, "fresh", fresh.SerializeToString())],
                         {})
    page = servicer.similar(pb.GetSimilarItemsRequest(item_id="sock", k=5), NOW).response
    assert ("fresh", "new:similar-to=sock") in [(i.item_id, i.reason) for i in page.items]
    own = servicer.similar(pb.GetSimilarItemsRequest(item_id="fresh", k=3), NOW).response
    assert own.items[0].item_id == "sock" and own.items[0].reason == "content:similar-to=fresh"


def test_bytes_that_are_not_a_catalog_record_make_the_item_unavailable_not_a_crash():
    assert catalog_record("x", b"\xff\xff\xff") is None
    assert availability_change("x", catalog_record("x", b"\xff\xff\xff")).value == b""
    good = Item(item_id="x").SerializeToString()
    assert catalog_record("x", good) == good


def test_most_viewed_and_best_sellers_come_from_their_rankings(servicer):
    servicer.store.apply([
        Change(POPULAR_LISTS, "purchases/Care", ranked("purchases/Care", ["wax"], "popular")),
        Change(POPULAR_LISTS, "views", ranked("views", ["lace", "sock"], "popular"))], {})
    best = servicer.popular(pb.GetPopularItemsRequest(k=2, category="Care", by="purchases"), NOW)
    assert ids(best) == ["wax", "gala"]  # topped up from the global list
    assert best.response.items[1].reason == "popular:top-up"
    viewed = servicer.popular(pb.GetPopularItemsRequest(k=2, by="views"), NOW)
    assert ids(viewed) == ["lace", "sock"]


def test_similar_items_for_a_user_lean_to_the_categories_she_prefers(servicer):
    boot = pb.ItemFeatures(item_id="boot", category="Shoes", co_occurring=[
        pb.ItemAffinity(item_id="sock", affinity=5), pb.ItemAffinity(item_id="lace", affinity=4)])
    servicer.store.apply([
        Change(ITEMS, "boot", boot.SerializeToString()),
        Change(PROFILES, "u2", pb.UserProfile(user_id="u2", category_preferences={
            "laces": 0.9, "socks": 0.1}).SerializeToString())], {})
    anyone = servicer.similar(pb.GetSimilarItemsRequest(item_id="boot", k=2), NOW)
    assert ids(anyone) == ["sock", "lace"]
    her = servicer.similar(pb.GetSimilarItemsRequest(item_id="boot", k=2, user_id="u2"), NOW)
    assert ids(her) == ["lace", "sock"]


def test_a_new_catalog_item_like_her_recent_ones_joins_her_personal_list(servicer):
    """The ``content`` source: the catalog's items most like the user's recent ones (category,
    brand, price band, words) join her pool at serving, a new item before any event; a
    change to her seeds' content neighbours rebuilds her prepared list."""
    request = pb.GetRecommendationsRequest(user_id="u1", k=10)
    before = servicer.recommend(request, NOW).response
    assert "fresh" not in ids(servicer.recommend(request, NOW))
    index = ContentIndex(servicer.store, n=5)
    fresh = Item(item_id="fresh", title="Knit wool sock", category_path=["Socks"], brand="Knit",
                 price=6.0)
    index.update("fresh", fresh.SerializeToString())
    # in stock: no availability change, which would rebuild every prepared list anyway
    servicer.store.apply([*index.flush(), Change(CATALOG, "fresh", fresh.SerializeToString())],
                         {})
    after = servicer.recommend(request, NOW).response
    sources = {i.item_id: (i.source, i.reason) for i in after.items}
    assert sources["fresh"] == ("content", "content:shoe")  # reason: her latest seed
    assert [i.item_id for i in before.items if i.source == "recent"] == \
        [i.item_id for i in after.items if i.source == "recent"]
