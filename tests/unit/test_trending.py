import math
import pickle

from hypothesis import given
from hypothesis import strategies as st

from features.trending import TopItems, merge_ranked
from online_models.trending import TrendingRecommender
from reco.decay import add_decayed, value_at

HALF_LIFE = 3_600_000


@given(st.lists(st.tuples(st.floats(0.1, 10), st.integers(0, 10 * HALF_LIFE)), min_size=1,
                max_size=50))
def test_decayed_score_equals_the_direct_sum(points):
    score: float | None = None
    for weight, ts in points:
        score = add_decayed(score, weight, ts, HALF_LIFE)
    now = max(ts for _, ts in points)
    direct = sum(w * 2 ** (-(now - ts) / HALF_LIFE) for w, ts in points)
    assert score is not None
    assert math.isclose(value_at(score, now, HALF_LIFE), direct, rel_tol=1e-9)


def test_scores_stay_finite_after_years_of_stream():
    score = add_decayed(None, 1.0, 0, 60_000)
    score = add_decayed(score, 1.0, 100 * 365 * 86_400_000, 60_000)
    assert math.isfinite(score)


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0, 100)), max_size=80),
       st.integers(1, 5))
def test_top_items_keeps_the_best_of_the_latest_scores_offered_while_kept(offers, n):
    top = TopItems(n)
    for item, score in offers:
        top.offer(item, score)
    assert len(top) <= n
    ranked = top.ranked()
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert pickle.loads(pickle.dumps(top)).ranked() == ranked


def test_top_items_evicts_the_weakest():
    top = TopItems(2)
    assert top.offer("a", 1) and top.offer("b", 2)
    assert not top.offer("c", 0.5)
    assert top.offer("c", 3)
    assert [i for i, _ in top.ranked()] == ["c", "b"]


def test_merge_keeps_each_items_best_score():
    merged = merge_ranked([[("a", 3), ("b", 1)], [("b", 5), ("c", 2)]], 2)
    assert merged == [("b", 5), ("a", 3)]


def log_count(count, ts=0):
    return add_decayed(None, count, ts, HALF_LIFE)


def test_recommender_prefers_liked_categories_and_skips_purchases():
    tops = {"shoes": [("s1", log_count(10)), ("s2", log_count(5))],
            "bags": [("b1", log_count(50))]}
    popular = [("b1", log_count(50)), ("p1", log_count(40)), ("s1", log_count(10))]
    recommender = TrendingRecommender(list_size=4)
    recs = recommender.recommend({"shoes": 1.0}, tops.get, popular, exclude={"s1"})
    assert [(i, r) for i, _, r in recs] == [
        ("s2", "trending:category=shoes"), ("b1", "popular"), ("p1", "popular")]


def test_recommender_cold_start_is_the_popular_list():
    popular = [("a", log_count(3)), ("b", log_count(2))]
    recs = TrendingRecommender(5).recommend({}, lambda _: None, popular, set())
    # scored as a share of the list's best
    assert [(i, round(s, 6), r) for i, s, r in recs] == [("a", 1.0, "popular"),
                                                         ("b", round(2 / 3, 6), "popular")]


def test_recommender_scores_decay_with_time():
    tops = {"shoes": [("old", log_count(8, ts=0)), ("new", log_count(2, ts=2 * HALF_LIFE))]}
    recs = TrendingRecommender(2).recommend({"shoes": 1.0}, tops.get, [], set())
    assert [i for i, _, _ in recs] == ["new", "old"]
    assert math.isclose(recs[1][1], 1.0)  # 8 two half-lives ago is worth 2 now: the new one's


def test_recommender_scores_stay_finite_whatever_the_lists_clocks():
    """Lists from other operators carry event times years apart (a backfill, a producer with
    a wrong clock): nothing is exponentiated against a foreign "now"."""
    tops = {"shoes": [("future", log_count(1, ts=4_100_000_000_000))],
            "bags": [("past", log_count(1, ts=0))]}
    popular = [("p", log_count(1, ts=4_100_000_000_000)), ("q", log_count(1, ts=0))]
    recs = TrendingRecommender(4).recommend({"shoes": 0.5, "bags": 0.5}, tops.get, popular,
                                            set())
    assert [i for i, _, _ in recs] == ["future", "past", "p", "q"]
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for _, s, _ in recs)
