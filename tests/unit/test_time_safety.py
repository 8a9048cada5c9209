"""Valid but unusual input, driven by Hypothesis through the pure logic the job and the
evaluation share: event times from 1970 to 2100 in any order, across users, items and
categories (ids equal to internal keys among them). Nothing may raise, and every number the
logic publishes (profiles, item features, candidate scores, bandit sums) must be finite."""

from __future__ import annotations

import math

import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.system import InProcessSystem
from features.affinity import CategoryPreferences
from features.items import ItemState
from features.windows import SlidingWindowSum
from online_models.feedback import FeedbackJoiner, RewardWeights
from online_models.mixes import ARMS
from online_models.policy_stats import PolicyStatistics
from online_models.trending import TrendingRecommender
from reco.config import Settings
from reco.decay import add_decayed
from reco.events import EVENT_TYPES, Event
from reco.keys import FACTORS_PREFIX, GLOBAL_LIST, NEW_ITEMS_PREFIX, POPULAR_LIST
from userstep.step import Shared

TS = st.integers(min_value=0, max_value=4_102_444_800_000)  # 1970 .. 2100
HOSTILE_IDS = ["__popular__", POPULAR_LIST, GLOBAL_LIST, "segment:1", f"{FACTORS_PREFIX}0",
               "__factors__:0", f"{NEW_ITEMS_PREFIX}c0", "new:c0", "category/c0"]
IDS = st.sampled_from(["u1", "u2", "u3", *HOSTILE_IDS])
ITEMS = st.sampled_from(["i1", "i2", "i3", "i4", *HOSTILE_IDS])
CATEGORIES = st.sampled_from(["c0", "c1", "", *HOSTILE_IDS])
ZONES = st.sampled_from([None, "Europe/Berlin", "Europe", "America/Argentina", "x" * 300,
                         "../../etc/passwd", "UTC"])


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    out = []
    for n in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(sorted(EVENT_TYPES)))
        out.append(Event(
            event_id=f"e{draw(st.integers(0, 30))}" if draw(st.booleans()) else f"n{n}",
            event_type=kind, user_id=draw(IDS), ts=draw(TS),
            item_id=None if kind == "checkout_start" else draw(ITEMS),
            category=draw(CATEGORIES) or None,
            price=draw(st.one_of(st.none(), st.floats(0, 10_000_000))),
            quantity=draw(st.one_of(st.none(), st.integers(1, 10_000))),
            dwell_ms=draw(st.one_of(st.none(), st.integers(0, 6 * 3_600_000))),
            timezone=draw(ZONES), country=draw(st.sampled_from([None, "DE", "US", "ZZ"]))))
    return out


def assert_finite(message: Message) -> None:
    """Every float in a protobuf message (nested, repeated and map fields too) is finite."""
    for field, value in message.ListFields():
        values = value.values() if hasattr(value, "values") and callable(value.values) else (
            value if field.label == field.LABEL_REPEATED else [value])
        for v in values:
            if isinstance(v, Message):
                assert_finite(v)
            elif isinstance(v, float):
                assert math.isfinite(v), f"{field.name} = {v}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=events())
def test_the_shared_logic_takes_any_event_times_in_any_order(stream):
    config = Settings()
    system = InProcessSystem(config, retrain_factors=False)
    for event in stream:
        system.learn(event)
    for user, state in system.states.items():
        published = system.step.publish(state, user, Shared(system._ranked), 0)
        assert_finite(published.profile)
        pool = system.step.pool(state.profile, Shared(system._ranked))
        assert all(math.isfinite(score) and 0.0 <= score <= 1.0 for _, score, *_ in pool)
        system.recommend(user, 10, max(e.ts for e in stream))
    for item, item_state in system.items.items():
        assert_finite(item_state.to_proto(item, updated_at_ms=0))
    assert system.recommend("never-seen", 10, 0) or not system.items


@given(lists=st.dictionaries(CATEGORIES, st.lists(st.tuples(ITEMS, TS), max_size=5)),
       weights=st.dictionaries(CATEGORIES, st.floats(0, 1)))
def test_trending_scores_are_shares_whatever_the_lists_clocks(lists, weights):
    h = 3_600_000
    ranked = {c: sorted(((i, add_decayed(None, 1.0, ts, h)) for i, ts in items),
                        key=lambda kv: -kv[1]) for c, items in lists.items()}
    popular = [entry for items in ranked.values() for entry in items]
    recs = TrendingRecommender(8).recommend(weights, ranked.get, popular, exclude={"i1"})
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for _, s, _ in recs)
    assert "i1" not in {item for item, _, _ in recs}


@given(times=st.lists(TS, min_size=1, max_size=30))
def test_windows_preferences_and_item_scores_take_any_order(times):
    window = SlidingWindowSum(3_600_000, 600_000)
    preferences = CategoryPreferences(half_life_ms=86_400_000)
    item = ItemState(half_life_ms=3_600_000)
    for n, ts in enumerate(times):
        window.add("k", 1.0, ts)
        preferences.add(f"c{n % 3}", 1.0, ts)
        item.add_interaction(1.0, ts, f"e{n}", "c")
    assert all(math.isfinite(v) for v in window.totals().values())
    assert math.isclose(sum(preferences.vector().values()), 1.0)
    assert_finite(item.to_proto("i", updated_at_ms=0))


@given(steps=st.lists(st.tuples(st.sampled_from(["impression", "click", "expire"]), TS,
                                st.sampled_from(["i1", "i2"])), max_size=30))
def test_rewards_and_bandit_sums_stay_finite_for_any_times(steps):
    joiner = FeedbackJoiner(RewardWeights())
    stats = PolicyStatistics(["bias", "recency"], half_life_ms=86_400_000)
    for n, (kind, ts, item) in enumerate(steps):
        if kind == "impression":
            samples = joiner.add_impression(f"r{n}", ts, [("i1", 0.5), ("i2", 0.5)],
                                            {"bias": 1.0, "recency": 0.5}, ARMS[n % len(ARMS)])
        elif kind == "click":
            samples = joiner.on_event("click", item, ts)
        else:
            samples = joiner.expire(ts)
        for sample in samples:
            stats.update(sample.arm, sample.context, sample.reward, sample.weight, sample.ts)
    for sums in stats.arms.values():
        assert all(math.isfinite(v) for v in [*sums.xtx.ravel(), *sums.xty, sums.weight])


def test_one_forged_reward_cannot_make_an_arm_infinite():
    stats = PolicyStatistics(["bias"])
    stats.update("personal", {"bias": 1e300}, reward=1.0)
    with pytest.raises(ValueError, match="finite"):
        stats.update("personal", {"bias": math.inf}, reward=1.0)
    assert stats.arms["personal"].xtx.tolist() == [[1.0]]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4), max_leaves=12)
FIELDS = ["event_id", "event_type", "user_id", "item_id", "ts", "session_id", "dwell_ms",
          "scroll_depth", "price", "quantity", "category", "device", "country", "timezone",
          "request_id", "consent"]


@st.composite
def event_documents(draw: st.DrawFn) -> dict:
    doc = {"event_id": "e1", "event_type": draw(st.sampled_from(sorted(EVENT_TYPES))),
           "user_id": "u1", "item_id": "i1", "ts": draw(TS)}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        doc[name] = draw(JSON_VALUES | st.sampled_from(["u\ud800", "\udfff", "Europe",
                                                        1e20, -(2**63), 2**64]))
    return doc


@given(doc=event_documents(), now=st.one_of(st.none(), TS))
def test_parse_accepts_or_dead_letters_any_json(doc, now):
    import json

    from reco.events import InvalidEvent, parse_event, well_formed
    raw = json.dumps(doc).encode()  # surrogates travel as \\ud800 escapes, as on the wire
    try:
        event = parse_event(raw, now_ms=now)
    except InvalidEvent as exc:
        assert str(exc)
        return
    assert all(well_formed(v) for v in event.to_json_dict().values() if isinstance(v, str))
    assert event.to_json()  # the DLQ, filtered and import paths can write it back
    assert now is None or event.ts - now <= 3_600_000


@given(doc=st.dictionaries(st.sampled_from(["request_id", "user_id", "served_at_ms", "items",
                                            "arm", "features", "policy"]), JSON_VALUES),
       now=TS)
def test_parse_accepts_or_dead_letters_any_impression(doc, now):
    import json

    from reco.events import InvalidEvent
    from reco.impressions import parse_impression
    try:
        impression = parse_impression(json.dumps(doc).encode(), now, 3_600_000, frozenset(ARMS))
    except InvalidEvent:
        return
    assert impression.served_at_ms - now <= 3_600_000
    assert all(-1.0 <= v <= 1.0 for v in impression.features.values())
