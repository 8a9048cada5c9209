import math

import pytest

from online_models.feedback import FeedbackJoiner, RewardWeights

MIN = 60_000


def joiner_with(*impressions, position_discount=False):
    joiner = FeedbackJoiner(RewardWeights(window_ms=30 * MIN, half_life_ms=60 * MIN,
                                          position_discount=position_discount))
    for request_id, ts, items in impressions:
        joiner.add_impression(request_id, ts, [(i, 0.25) for i in items], {"bias": 1.0})
    return joiner


def test_each_engagement_is_a_reward_at_once_with_its_weight_and_position():
    joiner = joiner_with(("r1", 0, ["a", "b", "c"]))
    [click] = joiner.on_event("click", "b", ts=MIN)
    [buy] = joiner.on_event("purchase", "b", ts=2 * MIN)
    assert (click.reward, buy.reward, click.position, click.propensity) == (1.0, 5.0, 1, 0.25)
    assert buy.request_id == "r1" and buy.context == {"bias": 1.0}


def test_a_reward_further_down_the_page_counts_less_as_ndcg_counts_a_hit_there():
    joiner = joiner_with(("r1", 0, ["a", "b", "c", "d"]), position_discount=True)
    rewards = [joiner.on_event("purchase", item, ts=MIN)[0].reward for item in "abcd"]
    assert rewards == [5.0, 5.0 / math.log2(3), 2.5, 5.0 / math.log2(5)]
    assert [s.reward for s in joiner.expire(now_ms=31 * MIN)] == []  # all engaged
    joiner = joiner_with(("r2", 0, ["a", "b"]), position_discount=True)
    assert joiner.on_event("skip", "b", ts=MIN)[0].reward == -1.0 / math.log2(3)
    assert [s.reward for s in joiner.expire(now_ms=31 * MIN)] == [0.0]


def test_skips_are_negative_and_unrelated_events_say_nothing():
    joiner = joiner_with(("r1", 0, ["a"]))
    assert [s.reward for s in joiner.on_event("skip", "a", ts=MIN)] == [-1.0]
    assert joiner.on_event("product_view", "a", ts=MIN) == []
    assert joiner.on_event("click", "zzz", ts=MIN) == []
    assert joiner.on_event("click", "a", ts=31 * MIN) == []  # outside the window


def test_the_named_request_gets_the_credit_else_the_latest_showing():
    joiner = joiner_with(("r1", 0, ["a"]), ("r2", MIN, ["a"]))
    assert joiner.on_event("click", "a", ts=2 * MIN)[0].request_id == "r2"
    assert joiner.on_event("click", "a", ts=2 * MIN, request_id="r1")[0].request_id == "r1"


def test_an_event_naming_its_impression_counts_when_the_shops_clock_is_behind_the_servers():
    joiner = joiner_with(("r1", 10 * MIN, ["a"]))  # served at 10 min on the server's clock
    assert joiner.on_event("click", "a", ts=10 * MIN - 2_000) == []  # unnamed: came before
    [sample] = joiner.on_event("click", "a", ts=10 * MIN - 2_000, request_id="r1")
    assert sample.request_id == "r1" and sample.reward == 1.0
    assert joiner.on_event("click", "a", ts=41 * MIN, request_id="r1") == []  # window closed


def test_untouched_items_become_zero_rewards_when_the_window_closes():
    joiner = joiner_with(("r1", 0, ["a", "b"]), ("r2", 20 * MIN, ["c"]))
    joiner.on_event("click", "a", ts=MIN)
    expired = joiner.expire(now_ms=31 * MIN)
    assert [(s.request_id, s.item_id, s.reward) for s in expired] == [("r1", "b", 0.0)]
    assert [imp.request_id for imp in joiner.pending] == ["r2"]


def test_recent_feedback_weighs_more():
    joiner = joiner_with(("r1", 0, ["a", "b"]))
    soon = joiner.on_event("click", "a", ts=0)[0]
    late = joiner.on_event("click", "b", ts=29 * MIN)[0]
    assert soon.weight == 0.5 and 0.6 < late.weight / soon.weight < 0.8


def test_the_items_of_one_response_weigh_one_observation_together():
    joiner = joiner_with(("r1", 0, ["a", "b", "c", "d"]), ("r2", 0, ["e"]))
    [click] = joiner.on_event("click", "a", ts=0)
    assert click.weight == 0.25
    ignored = joiner.expire(now_ms=31 * MIN)
    delay = 2 ** (-31 / 60)  # the half-life of joiner_with's weights is an hour
    assert [s.weight / delay for s in ignored] == pytest.approx([0.25, 0.25, 0.25, 1.0])


def test_pending_impressions_are_bounded():
    joiner = FeedbackJoiner(RewardWeights(), max_pending=2)
    pushed = []
    for n in range(3):
        pushed += joiner.add_impression(f"r{n}", n, [("a", 1.0)], {})
    assert len(joiner.pending) == 2 and [s.request_id for s in pushed] == ["r0"]


def test_samples_carry_the_arm_and_a_redelivered_impression_counts_once():
    joiner = FeedbackJoiner(RewardWeights(window_ms=30 * MIN))
    joiner.add_impression("r1", 0, [("a", 0.5)], {"bias": 1.0}, arm="personal")
    joiner.add_impression("r1", 0, [("a", 0.5)], {"bias": 1.0}, arm="personal")
    assert len(joiner.pending) == 1
    assert joiner.on_event("click", "a", ts=MIN)[0].arm == "personal"


def test_an_event_that_overtook_its_impression_is_joined_when_the_impression_arrives():
    joiner = FeedbackJoiner(RewardWeights(window_ms=30 * MIN))
    assert joiner.on_event("click", "a", ts=MIN, request_id="r1") == []
    [sample] = joiner.add_impression("r1", 0, [("a", 0.5), ("b", 0.5)], {"bias": 1.0},
                                     arm="similar")
    assert (sample.item_id, sample.reward, sample.arm) == ("a", 1.0, "similar")
    assert joiner.early == []
    assert [s.item_id for s in joiner.expire(now_ms=31 * MIN)] == ["b"]


def test_policy_statistics_fade_so_recent_feedback_weighs_more():
    from online_models.policy_stats import PolicyStatistics

    day = 86_400_000
    old, new = PolicyStatistics(["bias"], half_life_ms=day), PolicyStatistics(["bias"], day)
    old.update("a", {"bias": 1.0}, reward=1.0, ts=1)
    new.update("a", {"bias": 1.0}, reward=0.0, ts=1 + 2 * day)
    total = PolicyStatistics.merged([old, new])
    assert total.arms["a"].weight == 1.25  # the old reward counts a quarter two days later
    assert total.arms["a"].reward_sum == 0.25
    assert old.arms["a"].weight == 1.0  # the shards themselves are left as they were
    again = PolicyStatistics.from_message(total.to_message("s", 0))
    assert (again.as_of_ms, again.half_life_ms) == (1 + 2 * day, day)


def test_a_view_is_a_reward_only_when_it_has_a_weight():
    # a shop sending clicks: the view a click opens says nothing more
    assert joiner_with(("r1", 0, ["a"])).on_event("product_view", "a", ts=MIN) == []
    # a shop sending views only (the public data sets): a view of a shown item is its click
    joiner = FeedbackJoiner(RewardWeights(product_view=1.0))
    joiner.add_impression("r1", 0, [("a", 0.5)], {"bias": 1.0}, arm="personal")
    [view] = joiner.on_event("product_view", "a", ts=MIN)
    assert (view.reward, view.arm) == (1.0, "personal")


def test_statistics_restored_from_an_incompatible_version_start_over():
    import pickle

    from online_models.policy_stats import PolicyStatistics

    stats = PolicyStatistics(["bias"])
    stats.update("a", {"bias": 1.0}, reward=1.0)
    restored = pickle.loads(pickle.dumps(stats))  # as the job's checkpoint keeps them
    assert restored.continues(["bias"]) and restored.arms["a"].reward_square_sum == 1.0
    assert not restored.continues(["bias", "seg:0"])  # another context
    del stats.__dict__["format"]  # as a version whose rewards had another scale pickled them
    assert not pickle.loads(pickle.dumps(stats)).continues(["bias"])
