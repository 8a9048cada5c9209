import pickle

from features.profile import UserProfileState
from reco.events import Event
from reco.simulator import ShopperSimulation, SimConfig

HOUR = 3_600_000


def new_profile():
    return UserProfileState(window_ms=24 * HOUR, bucket_ms=HOUR, recent_n=3, purchased_n=2)


def event(i, kind="product_view", item="a", category="shoes", ts=None, **extra):
    return Event(f"e{i}", kind, "u1", ts=i * 1000 if ts is None else ts, item_id=item,
                 category=category, **extra)


def test_recent_items_are_most_recent_first_and_bounded():
    profile = new_profile()
    for i, item in enumerate("abcdb"):
        profile.update(event(i, item=item))
    assert profile.recent_items == ["b", "d", "c"]


def test_purchases_are_remembered_and_bounded():
    profile = new_profile()
    for i, item in enumerate("xyz"):
        profile.update(event(i, "purchase", item=item, price=1.0))
    assert profile.purchased == ["z", "y"]


def test_category_weights_follow_event_weights_inside_the_window():
    profile = new_profile()
    profile.update(event(1, "product_view", category="shoes", ts=0))
    profile.update(event(2, "purchase", category="bags", ts=1000, price=3.0))
    assert profile.category_weights() == {"shoes": 1 / 6, "bags": 5 / 6}
    profile.update(event(3, "skip", category="toys", ts=30 * HOUR))  # a skip weighs nothing
    assert profile.category_weights() == {}


def test_context_keeps_the_last_known_values():
    profile = new_profile()
    profile.update(event(1, device="mobile", country="DE"))
    profile.update(event(2, device="desktop"))
    assert profile.context == {"device": "desktop", "country": "DE"}


def test_profile_proto_and_pickle_carry_the_state():
    profile = new_profile()
    for e in list(ShopperSimulation(SimConfig(n_users=1, n_items=50, bot_share=0)).events()):
        profile.update(e)
    message = profile.to_proto("u00000", updated_at_ms=5)
    assert message.event_count == profile.event_count > 0
    assert sum(message.event_type_counts.values()) == profile.event_count
    assert list(message.recent_item_ids) == profile.recent_items
    assert [c.category for c in message.category_counts][:1] == \
        [max(profile.categories.totals(), key=profile.categories.totals().get)]
    clone = pickle.loads(pickle.dumps(profile))
    assert clone.to_proto("u00000", 5) == message
