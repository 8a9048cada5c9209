from hypothesis import given
from hypothesis import strategies as st

from online_models.candidates import blend, catalogue_coverage, mmr

ranked = st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0, 100)), max_size=8)


@given(st.dictionaries(st.sampled_from(["recent", "cooc", "popular"]), ranked),
       st.sets(st.sampled_from("abcdefgh")), st.integers(1, 10))
def test_blend_keeps_each_item_once_never_an_excluded_one_and_scores_in_0_1(sources, exclude,
                                                                            n):
    out = blend(sources, {"recent": 1.0, "cooc": 0.7, "popular": 0.3}, exclude, n)
    items = [i for i, _, _ in out]
    assert len(items) == len(set(items)) <= n
    assert not set(items) & exclude
    assert all(0 <= score <= 1 and reason in sources for _, score, reason in out)
    assert [s for _, s, _ in out] == sorted((s for _, s, _ in out), reverse=True)


def test_a_source_weighted_zero_contributes_nothing():
    out = blend({"recent": [("a", 1.0)], "popular": [("b", 9.0)]}, {"recent": 1.0}, set(), 5)
    assert out == [("a", 1.0, "recent")]


def test_mmr_trades_relevance_for_new_categories():
    candidates = [("a", 1.0, "r"), ("b", 0.95, "r"), ("c", 0.9, "r"), ("d", 0.3, "r")]
    categories = {"a": "shoes", "b": "shoes", "c": "shoes", "d": "bags"}
    assert [i for i, _, _ in mmr(candidates, categories, 1.0, 4)] == ["a", "b", "c", "d"]
    assert [i for i, _, _ in mmr(candidates, categories, 0.5, 2)] == ["a", "d"]


def test_catalogue_coverage():
    assert catalogue_coverage([["a", "b"], ["b", "c"]], 10) == 0.3
    assert catalogue_coverage([], 0) == 0.0
