"""Basket co-occurrence (frequently bought together): what the quality gate pairs and what the
item state keeps, including states stored before baskets were kept."""

from hypothesis import given
from hypothesis import strategies as st

from features.bots import BotRules
from features.items import MAX_BASKET, ItemState, Session, learn_signal, pair_in_session
from features.quality import QualityGate
from reco.events import Event
from reco.records import ItemSignal

GAP = 60_000


def test_carted_and_bought_items_of_a_session_pair_and_views_do_not():
    gate = QualityGate(BotRules(max_per_second=100), dedup_window=8, session_gap_ms=GAP)
    state = gate.new()
    kinds = [("add_to_cart", "a"), ("product_view", "v"), ("add_to_cart", "b"),
             ("purchase", "a"), ("purchase", "c")]
    baskets = []
    for n, (kind, item) in enumerate(kinds):
        price = 10.0 if kind == "purchase" else None
        verdict, state = gate.check(state, Event(f"e{n}", kind, "u", ts=1_000 * n,
                                                 item_id=item, price=price))
        assert verdict is not None
        baskets.append(verdict.basket)
    assert baskets == [(), (), ("a",), (), ("a", "b")]
    # a new session starts an empty basket
    verdict, state = gate.check(state, Event("e9", "add_to_cart", "u", ts=10 * GAP,
                                             item_id="d"))
    assert verdict is not None and verdict.basket == ()


@given(st.lists(st.tuples(st.sampled_from("abcdefghijklmnop"), st.integers(0, 3 * GAP),
                          st.booleans()), max_size=60))
def test_a_basket_partner_is_never_the_item_itself_and_the_basket_stays_bounded(steps):
    session: Session = (0, None)
    for item, ts, to_basket in steps:
        paired = pair_in_session(session, item, ts, GAP, to_basket)
        assert item not in paired.basket and len(set(paired.basket)) == len(paired.basket)
        session = paired.session
        assert len(session) == 3 and len(session[-1]) <= MAX_BASKET


def test_item_state_publishes_what_was_bought_with_it_and_old_states_restore():
    state = ItemState(half_life_ms=3_600_000)
    learn_signal(state, ItemSignal("a", "shoes", 1.0, 0, "e1"), 0.0)
    for other in ["sock", "lace", "sock"]:
        learn_signal(state, ItemSignal("a", ts=0, bought_with=other), 0.0)
    message = state.to_proto("a", updated_at_ms=0)
    assert [(o.item_id, o.affinity) for o in message.bought_with] == [("sock", 2.0),
                                                                      ("lace", 1.0)]
    assert not message.co_occurring
    old = state.__getstate__()[:-3]  # as stored before baskets, rankings, catalog were kept
    restored = ItemState.__new__(ItemState)
    restored.__setstate__(old)
    assert restored.bought_with.ranked() == [] and restored.rankings == {}
    assert restored.catalogued is False
    assert learn_signal(restored, ItemSignal("a", ts=0, bought_with="x"), 0.0)[1]


def test_views_and_purchases_are_offered_to_their_category_and_overall_rankings():
    state = ItemState(half_life_ms=3_600_000)
    offers, _ = learn_signal(state, ItemSignal("a", "shoes", 1.0, 0, "e1",
                                               event_type="product_view"), 1.0)
    assert {(o.key, o.item_id) for o in offers} >= {("views/shoes", "a"), ("views", "a")}
    offers, _ = learn_signal(state, ItemSignal("a", "shoes", 5.0, 1, "e2",
                                               event_type="purchase"), 1.0)
    assert {o.key for o in offers} >= {"purchases/shoes", "purchases"}
    # a view is offered when the count grew by the step since it was last (log2: doubled):
    # the second view (2 = 2 x 1) and the fourth (4 = 2 x 2), not the third
    offered = []
    for n in range(2, 5):
        offers, _ = learn_signal(state, ItemSignal("a", "shoes", 1.0, n, f"v{n}",
                                                   event_type="product_view"), 1.0)
        offered.append("views" in {o.key for o in offers})
    assert offered == [True, False, True]
