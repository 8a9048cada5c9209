"""An erased user's contributions leave the shared counts: the log-space subtraction, the
ledger's bound, and the whole user step in the evaluation harness, where a user who withdraws
consent leaves item scores, windows, co-occurrence, basket pairs, category and country lists
and segment sizes as they would be had she never come."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.system import InProcessSystem
from features.contributions import Contributions
from reco.config import Settings
from reco.decay import add_decayed, subtract_decayed, value_at
from reco.events import Event
from reco.records import ItemSignal

H = 3_600_000
T0 = 1_795_680_000_000
moments = st.tuples(st.floats(0.5, 5.0), st.integers(T0 - 40 * H, T0 + 40 * H))


@settings(max_examples=200, deadline=None)
@given(hers=st.lists(moments, min_size=1, max_size=20), others=st.lists(moments, max_size=20),
       seed=st.integers(0, 2**16))
def test_taking_her_weights_back_leaves_what_the_others_added(hers, others, seed):
    """In any order and spread over 80 half-lives, what is left after taking her weights
    back is what the others' alone add up to, within the score's rounding (about 1e-10 of
    the whole at today's event times); nothing when that is all the others are."""
    both = [*hers, *others]
    random.Random(seed).shuffle(both)
    score: float | None = None
    for weight, ts in both:
        score = add_decayed(score, weight, ts, H)
    for weight, ts in hers:
        score = subtract_decayed(score, weight, ts, H)
    latest = max(ts for _, ts in both)
    whole = sum(weight * 2.0 ** ((ts - latest) / H) for weight, ts in both)
    want = sum(weight * 2.0 ** ((ts - latest) / H) for weight, ts in others)
    if score is None:
        assert want <= 1e-8 * whole
        return
    assert math.isfinite(score)
    assert value_at(score, latest, H) == pytest.approx(want, rel=1e-6, abs=1e-8 * whole)


def test_subtracting_from_nothing_or_a_bad_weight():
    assert subtract_decayed(None, 1.0, 0, H) is None
    with pytest.raises(ValueError, match="positive, finite"):
        subtract_decayed(3.0, float("nan"), 0, H)


def test_the_ledger_keeps_the_newest_and_counts_what_it_let_go():
    ledger = Contributions(limit=3)
    ledger.add(ItemSignal(f"i{n}", weight=1.0, ts=n, event_id=f"e{n}") for n in range(5))
    assert [s.item_id for s in ledger.retractions()] == ["i2", "i3", "i4"]
    assert all(s.retract for s in ledger.retractions()) and ledger.dropped == 2
    # what a retraction reads is kept; the event id is not
    assert ledger.retractions()[0] == ItemSignal("i2", weight=1.0, ts=2, retract=True)


def _events(user: str, seed: int) -> list[Event]:
    rng = random.Random(seed)
    kinds = ["product_view"] * 5 + ["add_to_cart", "wishlist", "purchase"]
    events = []
    for n in range(30):
        kind = rng.choice(kinds)
        events.append(Event(f"{user}-{n}", kind, user, ts=T0 + n * 40_000 + seed,
                            item_id=f"i{rng.randrange(6)}", category="shoes", country="DE",
                            price=10.0 if kind == "purchase" else None))
    return events


def _counts(system: InProcessSystem) -> dict[str, Any]:
    """Everything shared that counts users' events, rounded where it is a decayed sum."""
    def ranked(top):
        return [(item, round(score, 6)) for item, score in top.ranked()]

    items = {}
    for item, state in sorted(system.items.items()):
        features = state.to_proto(item, 0)
        # the log score, not the trending score: that one is read at the item's clock, its
        # latest event time, which her events may have moved (a time, not a count)
        items[item] = (None if state.log_score is None else round(state.log_score, 6),
                       {k: round(v, 6) for k, v in features.interactions.items() if v},
                       [(a.item_id, a.affinity) for a in features.co_occurring],
                       [(a.item_id, a.affinity) for a in features.bought_with],
                       {k: round(v[0], 6) for k, v in state.rankings.items()})
    # an item whose every count was taken back stays known (its first sight is the item's)
    items = {item: counts for item, counts in items.items() if counts != (None, {}, [], [], {})}
    return {"items": items,
            "lists": {key: ranked(top) for key, top in system.tops.items()
                      if not key.startswith("new/")},  # when items first came: not counts
            "segment lists": {key: ranked(top) for key, top in system.segment_tops.items()},
            "popular": ranked(system.popular),
            "segment sizes": sum(system.step.segments.sizes),
            "sessions": _sessions(system)}


def _sessions(system: InProcessSystem) -> list[tuple[str, list[str]]]:
    index = system.step.sessions
    assert index is not None
    return sorted((key, sorted(index.sessions[sid])) for key, sid in index.keys.items())


def test_a_user_who_withdraws_leaves_the_counts_as_if_she_never_came():
    """She grants consent, shops among his events, and withdraws: item scores, windows,
    co-occurrence and basket pairs, the category and ranking lists, the global popular list,
    the country and segment lists, the segment sizes and the sessions the session kNN indexed
    are those of a run with his events only."""
    config = Settings(consent_default="allow", segments=1, trending_emit_ratio=1.0,
                      require_purchase_price=False, bot_max_per_second=100,
                      erasure_ledger=200)  # all of hers: 30 events, up to 6 signals each
    his, hers = _events("him", 0), _events("her", 1)
    # an item only she bought, last: at the top of every list until she withdraws
    hers.append(Event("her-last", "purchase", "her", ts=T0 + 31 * 40_000, item_id="hers",
                      category="shoes", country="DE", price=10.0))
    grant = Event("her-c0", "consent", "her", ts=T0 - 1, personalization=True, analytics=True)
    withdraw = Event("her-c1", "consent", "her", ts=T0 + 10 * 60_000, personalization=False,
                     analytics=False)
    both = InProcessSystem(config, retrain_factors=False, page_requests=False)
    for event in sorted([grant, *his, *hers], key=lambda e: e.ts):
        both.learn(event)
    assert _counts(both) != _counts(_alone(config, his))  # she did count
    assert "hers" in dict(_counts(both)["popular"])
    both.learn(withdraw)
    assert _counts(both) == _counts(_alone(config, his))


def _alone(config: Settings, events: list[Event]) -> InProcessSystem:
    system = InProcessSystem(config, retrain_factors=False, page_requests=False)
    for event in events:
        system.learn(event)
    return system


def test_a_user_state_stored_before_the_ledger_restores_without_one():
    from userstep.step import UserState, UserStep

    step = UserStep(Settings())
    state = step.new_state()
    old = UserState.__new__(UserState)
    old.__setstate__((None, {"profile": state.profile, "feedback": None}))  # as pickled then
    assert old.given is None and old.segment_counts is None and step.forget(old, "u1") == []


def test_a_quality_state_stored_before_the_ledger_gains_one_when_she_counts():
    from userstep.step import UserStep

    step = UserStep(Settings())
    fresh = step.new_quality()
    assert fresh is not None
    recent, bots, session, *_ = fresh
    view = Event("e1", "product_view", "u", ts=T0, item_id="i1")
    _, after = step.check((recent, bots, session), view)
    assert after is not None and len(after) == 4
    assert [s.item_id for s in step.retractions(after)] == ["i1"]
    _, uncounted = step.check((recent, bots, session), Event("e2", "product_view", "u", ts=T0,
                                                             item_id="i2"), counted=False)
    assert uncounted is not None and len(uncounted) == 3 and step.retractions(uncounted) == []
