"""Session kNN over a stream: an open session is indexed as it grows, once, and is never its
own neighbour."""

from online_models.session_knn import SessionKNN


def test_an_open_session_grows_in_place_and_is_not_its_own_neighbour():
    model = SessionKNN(k=10)
    model.learn_one(["a"], key="s1")
    model.learn_one(["a", "b"], key="s1")
    assert len(model.sessions) == 1 and model.sessions[0] == frozenset({"a", "b"})
    assert model.predict_one(["a", "b"], own="s1") == []
    model.learn_one(["b", "c"], key="s2")
    assert [item for item, _ in model.predict_one(["a", "b"], own="s1")] == ["b", "c"]


def test_weighted_similarity_favours_neighbours_of_the_latest_item():
    model = SessionKNN(k=10, weighted=True)
    model.learn_one(["a", "x"])
    model.learn_one(["b", "y"])
    ranked = [item for item, _ in model.predict_one(["a", "b"])]
    assert ranked.index("y") < ranked.index("x")  # b came last
