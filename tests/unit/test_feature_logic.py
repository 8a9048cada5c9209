"""Property and behaviour tests of the feature engine's pure logic."""

import math
import pickle
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.affinity import CategoryPreferences, ItemAffinity
from features.bots import BotFilter, BotRules, BotState
from features.context import agent_kind, event_context
from features.items import SpaceSavingTop
from features.rfm import segment_name
from features.sessions import SessionTracker
from features.stats import LogHistogram, RunningStats, shrunk
from reco.config import Settings
from reco.events import Event
from reco.simulator import CRAWLER_AGENTS, DEVICES, ShopperSimulation, SimConfig
from userstep.engine import FeatureEngine

values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=200)


@given(values)
def test_welford_matches_the_two_pass_formulas(xs):
    stats = RunningStats()
    for x in xs:
        stats.add(x)
    assert stats.mean == pytest.approx(statistics.fmean(xs), rel=1e-9, abs=1e-6)
    assert stats.variance == pytest.approx(statistics.pvariance(xs), rel=1e-6, abs=1e-3)
    assert (stats.low, stats.high) == (min(xs), max(xs))


@given(values, values)
def test_merged_stats_equal_stats_of_the_concatenation(xs, ys):
    a, b, both = RunningStats(), RunningStats(), RunningStats()
    for x in xs:
        a.add(x)
        both.add(x)
    for y in ys:
        b.add(y)
        both.add(y)
    a.merge(b)
    assert a.n == both.n and a.mean == pytest.approx(both.mean, rel=1e-9, abs=1e-6)
    assert a.variance == pytest.approx(both.variance, rel=1e-6, abs=1e-3)


def test_shrinkage_moves_from_the_prior_to_the_user():
    prior = RunningStats.seeded(20, 10.0, 1.0)
    user = RunningStats()
    user.add(20.0)
    assert shrunk(user, prior, 5.0)[0] == pytest.approx((1 * 20 + 5 * 10) / 6)
    for _ in range(999):
        user.add(20.0)
    assert shrunk(user, prior, 5.0)[0] == pytest.approx(20.0, rel=0.01)


@given(st.lists(st.floats(0.01, 1e7), min_size=20, max_size=500),
       st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]))
def test_log_histogram_quantiles_are_within_one_bin(xs, q):
    hist = LogHistogram(ratio=1.1)
    for x in xs:
        hist.add(x)
    ordered = sorted(xs)
    exact_low = ordered[max(0, math.ceil(q * len(xs)) - 1)]
    assert exact_low / 1.1 <= hist.quantile(q) <= exact_low * 1.1
    assert 0 <= hist.below(exact_low) <= q <= hist.rank(exact_low) + 1e-9


def test_sessions_split_on_the_gap():
    s = SessionTracker()
    opened = [s.update(ts, True, gap_ms=100) for ts in (0, 50, 150, 400, 401)]
    assert opened == [True, False, False, True, False]
    assert (s.count, s.finished_ms, s.events) == (2, 150, 2)
    assert pickle.loads(pickle.dumps(s)).__getstate__() == s.__getstate__()


@pytest.mark.parametrize("r, f, m, name", [
    (5, 5, 5, "champions"), (5, 1, 1, "new"), (3, 4, 2, "loyal"), (4, 2, 2, "promising"),
    (1, 4, 4, "at_risk"), (2, 1, 5, "cant_lose"), (1, 1, 1, "hibernating"),
    (3, 2, 2, "needs_attention"), (0, 0, 0, "prospect")])
def test_rfm_segments(r, f, m, name):
    assert segment_name(r, f, m) == name


def test_affinity_is_log_normalised_and_bounded():
    a = ItemAffinity(limit=3)
    for item in "aaaaaaaabcd":
        a.add(item, 1.0)
    assert len(a.items) == 3 and a.total == 11
    assert a.affinity("a") == pytest.approx(math.log1p(8) / math.log1p(11))


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 10**9)), min_size=1,
                max_size=50))
def test_category_preferences_do_not_depend_on_arrival_order(points):
    forward, backward = CategoryPreferences(86_400_000), CategoryPreferences(86_400_000)
    for category, ts in points:
        forward.add(category, 1.0, ts)
    for category, ts in reversed(points):
        backward.add(category, 1.0, ts)
    assert forward.vector() == pytest.approx(backward.vector())
    assert sum(forward.vector().values()) == pytest.approx(1.0)


def test_space_saving_never_misses_a_heavy_hitter():
    top = SpaceSavingTop(3)
    stream = ["hot"] * 30 + [f"cold{i}" for i in range(50)] + ["hot"] * 5
    for item in stream:
        top.count(item)
    assert top.ranked()[0][0] == "hot"


def test_context_from_timezone_or_country_and_user_agent():
    ts = 1_795_680_000_000  # 08:00 UTC, a Thursday
    assert event_context(ts, timezone="Asia/Tokyo").local_hour == 17
    assert event_context(ts, country="BR").local_hour == 5
    assert event_context(ts, timezone="Not/AZone", country="JP").local_hour == 17
    assert event_context(ts).day_part == "morning"
    kinds = {agent_kind(agent) for _, agent, _ in DEVICES}
    assert kinds == {"mobile", "desktop", "tablet"}
    assert {agent_kind(agent) for agent in CRAWLER_AGENTS} == {"crawler"}


def test_bot_rules_each_fire_with_their_name():
    bots = BotFilter(BotRules(max_per_second=100, max_per_minute=1000, max_repeats=3))
    state = BotState()
    rules = [bots.check(state, Event(f"e{i}", "click", "u", ts=i * 500, item_id="same"))
             for i in range(5)]
    assert rules == [None, None, None, "repeated_clicks", "flagged:repeated_clicks"]
    clean = BotState()
    assert bots.check(clean, Event("x", "product_view", "v", ts=0, item_id="i",
                                   dwell_ms=5_000_000)) == "dwell_too_long"
    assert bots.check(clean, Event("y", "purchase", "v", ts=1, item_id="i")) \
        == "purchase_without_price"
    late = Event("z", "click", "v", ts=10**9, item_id="j")
    assert bots.check(clean, late) is None  # implausible values do not flag the user


def test_flags_expire():
    bots = BotFilter(BotRules(max_per_second=1, flag_ttl_ms=1_000))
    state = BotState()
    for i in range(2):
        bots.check(state, Event(f"e{i}", "click", "u", ts=i, item_id=f"i{i}"))
    assert bots.check(state, Event("e3", "click", "u", ts=500, item_id="x")) == \
        "flagged:rate_per_second"
    assert bots.check(state, Event("e4", "click", "u", ts=5_000, item_id="y")) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_bots_are_caught_and_shoppers_pass(seed):
    sim = ShopperSimulation(SimConfig(n_users=600, seed=seed, bot_share=0.08))
    engine = FeatureEngine(Settings())
    bots = sim.bot_user_ids()
    caught = tp = fp = fn = 0
    for event in sim.events():
        rule = engine.process(event)
        is_bot_rule = rule is not None and rule not in ("dwell_too_long",
                                                        "purchase_without_price")
        is_bot = event.user_id in bots
        tp += is_bot_rule and is_bot
        fp += is_bot_rule and not is_bot
        fn += is_bot and not is_bot_rule
        caught += is_bot_rule
    precision, recall = tp / caught, tp / (tp + fn)
    print(f"seed {seed}: bot-event precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.99 and recall >= 0.9
