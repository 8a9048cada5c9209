"""The serving store (a real rocksdict on disk) and the servicer's answer logic."""

import asyncio

import grpc
import pytest

from reco.topics import POPULAR_KEY
from reco.v1 import recommendations_pb2 as pb
from serving.servicer import RecommendationsServicer, request_problem
from serving.store import PROFILES, RECOMMENDATIONS, Change, Store


def rec_list(user, items, reason="trending:category=shoes"):
    return pb.RecommendationList(user_id=user, model_version="v9", updated_at_ms=5, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), reason=reason)
        for n, i in enumerate(items)]).SerializeToString()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "db")
    s.apply([Change(RECOMMENDATIONS, "u1", rec_list("u1", ["a", "b", "c"])),
             Change(RECOMMENDATIONS, POPULAR_KEY, rec_list(POPULAR_KEY, ["p", "a", "q", "r"],
                                                          "popular"))],
            {("recommendations", 0): 2})
    yield s
    s.close()


def test_offsets_are_written_with_the_data_and_survive_a_reopen(tmp_path):
    s = Store(tmp_path / "db")
    s.apply([Change(PROFILES, "u1", b"p1")], {("user_profiles", 1): 10, ("recommendations", 0): 3})
    s.close()
    s = Store(tmp_path / "db")
    assert s.get(PROFILES, "u1") == b"p1"
    assert s.offsets() == {("user_profiles", 1): 10, ("recommendations", 0): 3}
    assert s.count(PROFILES) == 1 and s.count(RECOMMENDATIONS) == 0
    s.close()


def test_a_secondary_sees_the_primarys_writes_after_catching_up(tmp_path):
    primary = Store(tmp_path / "db")
    secondary = Store(tmp_path / "secondary", secondary_of=tmp_path / "db")
    primary.apply([Change(PROFILES, "u1", b"p1")], {})
    secondary.catch_up()
    assert secondary.get(PROFILES, "u1") == b"p1"
    secondary.close()
    primary.close()


def ask(store, user, k=10, exclude=()):
    servicer = RecommendationsServicer(store, "default")
    return servicer.recommend(pb.GetRecommendationsRequest(user_id=user, k=k,
                                                           exclude_item_ids=exclude))


def test_known_user_gets_their_own_list_minus_exclusions(store):
    reply = ask(store, "u1", k=5, exclude=["b"])
    assert [i.item_id for i in reply.items] == ["a", "c"]
    assert [i.item_id for i in ask(store, "u1", k=2).items] == ["a", "b"]
    assert not reply.cold_start and reply.model_version == "v9" and reply.request_id


def test_unknown_user_gets_the_cold_start_list(store):
    reply = ask(store, "stranger", k=2)
    assert [i.item_id for i in reply.items] == ["p", "a"] and reply.cold_start


def test_empty_store_answers_an_empty_list_not_an_error(tmp_path):
    s = Store(tmp_path / "empty")
    reply = ask(s, "anyone")
    assert list(reply.items) == [] and reply.cold_start and reply.model_version == "default"
    s.close()


@pytest.mark.parametrize("user, k, exclude, problem", [
    ("", 10, 0, "user_id is empty"), ("  ", 10, 0, "user_id is empty"),
    ("u", 0, 0, "k must be between 1 and 100, got 0"), ("u", 101, 0, "got 101"),
    ("u" * 257, 10, 0, "longer than 256"), ("u", 10, 1001, "at most 1000 exclude_item_ids"),
])
def test_request_problems_are_explained(user, k, exclude, problem):
    assert problem in (request_problem(user, k, exclude) or "")


def test_a_valid_request_has_no_problem():
    assert request_problem("u1", 100, 3) is None


class AbortingContext:
    async def abort(self, code, details):
        raise grpc.RpcError(code, details)


def test_servicer_aborts_with_invalid_argument(store):
    servicer = RecommendationsServicer(store, "default")
    with pytest.raises(grpc.RpcError) as caught:
        asyncio.run(servicer.GetRecommendations(
            pb.GetRecommendationsRequest(user_id="u1", k=0), AbortingContext()))
    assert caught.value.args == (grpc.StatusCode.INVALID_ARGUMENT,
                                 "k must be between 1 and 100, got 0")
