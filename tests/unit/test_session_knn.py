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


def test_forgetting_a_visitor_takes_out_her_sessions_only():
    model = SessionKNN(k=10, sample=3)
    model.learn_one(["a", "b"], key="her@1")
    model.learn_one(["a", "c"], key="him@1")
    model.learn_one(["a", "d"], key="her@2")
    model.learn_one(["d"], key="hera@1")  # another visitor whose id starts like hers
    assert model.forget("her") == 2
    assert sorted(model.keys) == ["hera@1", "him@1"]
    assert sorted(sorted(s) for s in model.sessions.values()) == [["a", "c"], ["d"]]
    assert [item for item, _ in model.predict_one(["a"])] == ["a", "c"]
    assert "b" not in model.by_item and model.forget("nobody") == 0


def test_the_user_step_lists_what_similar_sessions_went_on_to():
    from reco.config import Settings
    from reco.events import Event
    from userstep.step import Shared, UserStep

    step = UserStep(Settings(consent_default="allow"))
    for user, items in (("u1", "abx"), ("u2", "ay"), ("u3", "qz")):
        state = step.new_state()
        for n, item in enumerate(items):
            step.learn(state, Event(f"{user}-{n}", "product_view", user, ts=1_000 * n,
                                    item_id=item, category="c"))
    me = step.new_state()
    step.learn(me, Event("me-0", "product_view", "me", ts=5_000, item_id="a", category="c"))
    pool = step.pool(me.profile, Shared(), step.session_candidates(me.session, "me"))
    session = {item for item, _, source, _, _ in pool if source == "session"}
    assert session == {"b", "x", "y"}  # not her own a, not z: that session shares nothing
    assert step.forget(me, "u1") == [] and step.session_candidates(me.session, "me") != []
    assert all(item not in "bx" for item, _ in step.session_candidates(me.session, "me"))
