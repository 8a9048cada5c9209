import dataclasses
import random

from online_models.pool import candidate_pool, excluded_purchases
from online_models.revisit import (
    BOUGHT,
    IN_CART,
    RevisitRanker,
    profile_candidates,
    revisit_features,
)
from reco.config import Settings
from reco.events import Event
from userstep.configured import FeatureProfiles


def shop(ranker, comes_back_to_bought, rounds=400, seed=0):
    """Users with three recent items, one of them bought; the next event is on the bought one
    (a consumables shop) or on one of the others."""
    rng = random.Random(seed)
    for _ in range(rounds):
        items = {"x": revisit_features(0, 1.0, False, False),
                 "y": revisit_features(1, 1.0, False, True),
                 "z": revisit_features(2, 1.0, False, False)}
        ranker.learn_one(items, "y" if comes_back_to_bought else rng.choice("xz"))
    return [item for item, _ in ranker.predict_one(items)]


def test_the_data_decides_whether_bought_items_come_back():
    consumables, durables = RevisitRanker(seed=1), RevisitRanker(seed=1)
    assert shop(consumables, True)[0] == "y"
    assert shop(durables, False)[-1] == "y"
    assert consumables.weights[BOUGHT] > 0 > durables.weights[BOUGHT]


def test_untrained_ranker_orders_by_recency_and_scores_relative_to_the_best():
    ranked = RevisitRanker().predict_one(
        profile_candidates(["c", "b", "a"], {"a": 9.0}, cart=["a"], bought=[]))
    assert [item for item, _ in ranked] == ["c", "b", "a"]
    assert ranked[0][1] == 1.0 and all(0 < score < 1 for _, score in ranked[1:])


def test_an_item_the_user_never_had_teaches_nothing():
    ranker = RevisitRanker()
    before = list(ranker.weights)
    ranker.learn_one({"a": revisit_features(0, 1.0, False, False),
                      "b": revisit_features(1, 1.0, False, False)}, "new-item")
    assert ranker.weights == before and ranker.learned == 0


def test_same_seed_same_model():
    a, b = RevisitRanker(seed=7), RevisitRanker(seed=7)
    shop(a, False, seed=3)
    shop(b, False, seed=3)
    assert a.weights == b.weights


def event(i, kind, item, user="u1"):
    return Event(f"e{i}", kind, user, ts=1_000 * i, item_id=item, category="c", price=5.0)


def replay(book, events):
    profile = book.new()
    for e in events:
        book.learn(profile, e)
    return profile


def test_profiles_relist_bought_items_only_when_configured():
    events = [event(0, "product_view", "a"), event(1, "purchase", "a"),
              event(2, "product_view", "b")]
    relisting = FeatureProfiles(Settings())
    profile = replay(relisting, events)
    assert [item for item, _ in relisting.recent_candidates(profile, 20)] == ["b", "a"]
    never = FeatureProfiles(dataclasses.replace(Settings(), relist_purchased=False))
    profile = replay(never, events)
    assert [item for item, _ in never.recent_candidates(profile, 20)] == ["b"]


def test_profiles_learn_from_revisits_but_not_from_skips():
    book = FeatureProfiles(Settings())
    replay(book, [event(0, "product_view", "a"), event(1, "product_view", "b"),
                  event(2, "skip", "a")])
    assert book.revisit.learned == 0
    replay(book, [event(0, "product_view", "a"), event(1, "product_view", "b"),
                  event(2, "add_to_cart", "a")])
    assert book.revisit.learned == 1


def test_relisted_bought_items_are_not_excluded_from_the_list():
    pool = candidate_pool(recent=[("a", 1.0)], trending=[], popular=[("b", 1.0, "popular")],
                          n=5)
    assert excluded_purchases(pool, ["a", "b"]) == ["b"]


def test_own_items_come_newest_first_scored_by_the_rankers_order():
    """The server seeds co-occurrence with the first few own items: the newest."""
    book = FeatureProfiles(Settings())
    profile = replay(book, [event(0, "add_to_cart", "a"), event(1, "product_view", "b")])
    book.revisit.weights[IN_CART] = 5.0  # as if it had learned that carted items come back
    assert book.recent_candidates(profile, 20) == [("b", 1.0 - 1 / 3), ("a", 1.0)]
