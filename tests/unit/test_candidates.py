from hypothesis import given
from hypothesis import strategies as st

from online_models.candidates import catalogue_coverage, mmr
from online_models.mixes import MIXES, serve

pool_entries = st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0, 1),
                                  st.sampled_from(["recent", "cooccur", "popular", "other"])),
                        max_size=16)


@given(pool_entries, st.sets(st.sampled_from("abcdefgh")), st.integers(1, 10),
       st.sampled_from(sorted(MIXES)), st.sampled_from([0.0, 0.5]))
def test_serving_a_mix_keeps_each_item_once_never_an_excluded_one_best_first(
        entries, exclude, k, arm, diversity):
    pool = [(item, score, source, source, "") for item, score, source in entries]
    out = serve(pool, arm, exclude, k, diversity)
    items = [entry[0] for entry in out]
    assert len(items) == len(set(items)) <= k
    assert not set(items) & exclude
    assert all(0 < value <= 1 and source in MIXES[arm] for _, value, source, _, _ in out)
    if diversity == 0:
        values = [value for _, value, _, _, _ in out]
        assert values == sorted(values, reverse=True)


def test_a_source_the_mix_does_not_weigh_contributes_nothing():
    pool = [("a", 1.0, "recent", "recent", ""), ("b", 1.0, "unknown", "x", "")]
    assert [entry[0] for entry in serve(pool, "personal", (), 5)] == ["a"]


def test_the_users_own_items_keep_the_rank_her_own_source_gives_them():
    # "a" also co-occurs strongly with her items, mostly because she visited them together
    pool = [("a", 0.5, "recent", "recent", ""), ("b", 1.0, "recent", "recent", ""),
            ("a", 1.0, "cooccur", "cooccur:b", ""), ("c", 0.9, "cooccur", "cooccur:b", "")]
    out = serve(pool, "similar", (), 3)
    assert [(item, source) for item, _, source, _, _ in out] == [
        ("b", "recent"), ("c", "cooccur"), ("a", "recent")]


def test_mmr_trades_relevance_for_new_categories():
    candidates = [("a", 1.0, "r"), ("b", 0.95, "r"), ("c", 0.9, "r"), ("d", 0.3, "r")]
    categories = {"a": "shoes", "b": "shoes", "c": "shoes", "d": "bags"}
    assert [i for i, _, _ in mmr(candidates, categories, 1.0, 4)] == ["a", "b", "c", "d"]
    assert [i for i, _, _ in mmr(candidates, categories, 0.5, 2)] == ["a", "d"]


def test_catalogue_coverage():
    assert catalogue_coverage([["a", "b"], ["b", "c"]], 10) == 0.3
    assert catalogue_coverage([], 0) == 0.0
