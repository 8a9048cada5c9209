import math
import pickle

import pytest

from features.population import Population
from features.profile import ProfileConfig, UserProfileState, parse_duration, parse_windows
from features.profile_view import profile_message
from reco.events import Event
from reco.simulator import ShopperSimulation, SimConfig

HOUR = 3_600_000
CONFIG = ProfileConfig(recent_n=3, purchased_n=2)


def new_profile():
    return UserProfileState(CONFIG), Population()


def event(i, kind="product_view", item="a", category="shoes", ts=None, **extra):
    return Event(f"e{i}", kind, "u1", ts=i * 1000 if ts is None else ts, item_id=item,
                 category=category, **extra)


def feed(events):
    profile, population = new_profile()
    for e in events:
        profile.update(e, population, CONFIG)
    return profile, population


def test_recent_items_are_most_recent_first_and_bounded():
    profile, _ = feed([event(i, item=item) for i, item in enumerate("abcdb")])
    assert profile.recent_items == ["b", "d", "c"]


def test_recent_items_know_when_they_were_last_seen_to_the_minute_late_events_included():
    base = 1_700_000_000_000
    minutes = [0, 5, 30, 31]  # a, b, c, then b again; then a late event for c
    events = [event(n, item=item, ts=base + m * 60_000 + 7)
              for n, (item, m) in enumerate(zip("abcb", minutes, strict=True))]
    events.append(event(9, item="c", ts=base + 2 * 60_000))
    profile, _ = feed(events)
    assert profile.recent_items == ["c", "b", "a"]
    # c keeps its latest time (30 min), not the late event's
    assert profile.recent_times() == [(base + m * 60_000 + 7) // 60_000 * 60_000
                                      for m in (30, 31, 0)]
    assert list(profile_message(profile, "u1", 0, 0, Population(), CONFIG).recent_item_ts_ms) \
        == profile.recent_times()


def test_a_profile_stored_before_recent_times_restores_with_them_unknown():
    profile, population = feed([event(i, item=item) for i, item in enumerate("ab")])
    old = profile.__getstate__()[:-1]  # the state as stored before the slot existed
    restored = UserProfileState.__new__(UserProfileState)
    restored.__setstate__(old)
    assert restored.recent_items == ["b", "a"] and restored.recent_times() == [0, 0]
    restored.update(event(5, item="c", ts=600_000), population, CONFIG)
    assert restored.recent_times() == [600_000, 0, 0]


def test_purchases_feed_rfm_and_are_bounded():
    profile, _ = feed([event(i, "purchase", item=item, price=10.0, quantity=2)
                       for i, item in enumerate("xyz")])
    assert profile.purchased == ["z", "y"]
    assert (profile.rfm.purchases, profile.rfm.monetary) == (3, 60.0)


def test_windows_count_types_categories_dwell_and_scroll():
    profile, _ = feed([event(1, dwell_ms=1000, scroll_depth=0.5, ts=0),
                       event(2, "add_to_cart", item="b", category="bags", ts=2 * HOUR)])
    message = profile_message(profile, "u1", 2 * HOUR, 0, Population(), CONFIG)
    hour, day, week = message.windows
    assert (dict(hour.event_counts), dict(hour.category_counts)) == ({"add_to_cart": 1},
                                                                     {"bags": 3})
    for window in (day, week):
        assert dict(window.event_counts) == {"product_view": 1, "add_to_cart": 1}
        assert dict(window.category_counts) == {"shoes": 1, "bags": 3}
        assert (window.dwell_ms_sum, window.scroll_depth_mean) == (1000, 0.5)


def test_sessions_split_on_inactivity_and_flag_incomplete_data():
    profile, _ = feed([event(1, ts=0, dwell_ms=5, scroll_depth=0.1), event(2, ts=60_000),
                       event(3, ts=60_000 + 2 * HOUR, dwell_ms=5, scroll_depth=0.2)])
    s = profile.sessions
    assert (s.count, s.finished, s.finished_ms, s.incomplete) == (2, 1, 60_000, 1)
    assert profile.last_session_ms == 60_000


def test_missing_dwell_is_imputed_from_the_user_then_population_and_never_trains():
    profile, population = feed([event(1)])
    assert profile.last_dwell_imputed
    assert profile.last_dwell == pytest.approx(math.expm1(population.dwell.mean))
    assert profile.dwell.n == 0
    profile, population = feed([event(i, dwell_ms=2000 * (i + 1), scroll_depth=0.5)
                                for i in range(3)] + [event(9)])
    assert profile.last_dwell_imputed and profile.dwell.n == 3
    assert profile.last_dwell == pytest.approx(math.expm1(profile.dwell.mean))


def test_category_preferences_decay_and_sum_to_one():
    week = 7 * 24 * HOUR
    profile, _ = feed([event(1, category="shoes", ts=0), event(2, category="bags", ts=week)])
    prefs = profile.category_weights()
    assert prefs == pytest.approx({"bags": 2 / 3, "shoes": 1 / 3})


def test_filtered_events_are_counted_not_learned():
    profile, _ = new_profile()
    profile.record_filtered("rate_per_second", ts=5, flagged_until=100)
    assert (profile.filtered, profile.flag_rule, profile.event_count) == (1, "rate_per_second", 0)


def test_published_profile_carries_every_feature_group():
    profile, population = feed(list(ShopperSimulation(SimConfig(  # seed 4 buys twice
        n_users=1, n_items=50, bot_share=0, sessions_per_user=6, seed=4)).events()))
    message = profile_message(profile, "u00000", profile.last_seen, 5, population, CONFIG)
    assert message.event_count == profile.event_count > 0
    assert [w.window for w in message.windows] == ["1h", "24h", "7d"]
    assert sum(message.category_preferences.values()) == pytest.approx(1.0)
    assert message.sessions.count == profile.sessions.count
    assert message.context.country and message.context.device_type in ("mobile", "desktop",
                                                                         "tablet")
    assert message.item_affinities and 0 < message.item_affinities[0].affinity <= 1
    assert message.rfm.frequency == profile.rfm.purchases >= 2
    assert message.rfm.r in range(1, 6) and message.rfm.segment != "prospect"
    clone = pickle.loads(pickle.dumps(profile))
    assert profile_message(clone, "u00000", profile.last_seen, 5, population, CONFIG) == message


def test_state_of_a_typical_user_stays_small():
    sim = ShopperSimulation(SimConfig(n_users=300, bot_share=0, seed=4))
    profiles: dict[str, UserProfileState] = {}
    population = Population()
    for e in sim.events():
        profiles.setdefault(e.user_id, UserProfileState(ProfileConfig())).update(
            e, population, ProfileConfig())
    sizes = sorted(len(pickle.dumps(p, protocol=5)) for p in profiles.values())
    assert sizes[len(sizes) // 2] < 2048


def test_durations_and_windows_parse_or_say_why():
    assert parse_duration("10m") == 600_000
    assert parse_windows("1h:10m,7d") == (("1h", HOUR, 600_000), ("7d", 7 * 24 * HOUR,
                                                                   7 * 24 * HOUR))
    with pytest.raises(ValueError, match="expected a number and one of s, m, h, d"):
        parse_duration("10 minutes")


def test_session_length_is_normalised_against_the_users_own_sessions():
    events = []
    for n, length in enumerate([60_000, 120_000, 240_000, 60_000]):
        start = n * 10 * HOUR
        events += [event(10 * n, ts=start, dwell_ms=5, scroll_depth=0.5),
                   event(10 * n + 1, ts=start + length, dwell_ms=5, scroll_depth=0.5)]
    profile, population = feed(events)
    message = profile_message(profile, "u1", profile.last_seen, 0, population, CONFIG)
    assert profile.last_session_ms == 240_000  # the last closed one
    assert message.sessions.session_length_minmax == pytest.approx(1.0)
    assert message.sessions.session_length_zscore > 0
