"""Shared fixtures of the unit tests: a serving store with one user's list and the global
one."""

import pytest

from reco.keys import GLOBAL_LIST
from reco.v1 import recommendations_pb2 as pb
from serving.store import POPULAR_LISTS, RECOMMENDATIONS, Change, Store


def rec_list(user, items, reason="trending:category=shoes"):
    return pb.RecommendationList(user_id=user, model_version="v9", updated_at_ms=5, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), reason=reason)
        for n, i in enumerate(items)]).SerializeToString()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "db")
    s.apply([Change(RECOMMENDATIONS, "u1", rec_list("u1", ["a", "b", "c"])),
             Change(POPULAR_LISTS, GLOBAL_LIST, rec_list(GLOBAL_LIST, ["p", "a", "q", "r"],
                                                         "popular"))],
            {("recommendations", 0): 2})
    yield s
    s.close()
