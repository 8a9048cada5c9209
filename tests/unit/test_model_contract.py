"""The contract every online model keeps (River's, and ours): the same seed gives the same
outputs; a pickle round trip mid-stream changes nothing that follows; it answers before it has
learned anything and for users, items and categories it has never seen; NaN, infinite and huge
inputs get a clear ValueError or are clipped as documented (the model stays finite); and its
memory after 100,000 distinct users or items stays within its documented bound. A new model
is one new ``Case`` in ``CASES``."""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from features.items import ItemState
from features.knn_imputer import KNNImputer
from features.trending import TopItems
from online_models.als import ImplicitALS
from online_models.bandit_context import context_features
from online_models.baselines import RiverBandit
from online_models.content import ContentSimilarity
from online_models.factors import ItemFactors
from online_models.linear_ts import LinearThompsonSampling
from online_models.linucb import LinUCB
from online_models.mixes import ARMS, serve
from online_models.policy_stats import PolicyStatistics
from online_models.revisit import RevisitRanker, revisit_features
from online_models.segments import SegmentModel
from online_models.session_knn import SessionKNN
from online_models.trending import TrendingRecommender
from reco.decay import add_decayed

FEATURES = context_features(4)
DISTINCT = 100_000


@dataclass
class Case:
    name: str
    make: Callable[[int], Any]                # a fresh model from a seed
    learn: Callable[[Any, int], None]         # learns the i-th sample of a seeded stream
    predict: Callable[[Any, str], Any]        # answers a probe naming an id ("new" is unseen)
    hostile: Callable[[Any], None]            # NaN, inf and huge values
    bound: str                                # the documented memory bound
    max_bytes: Callable[[int], int]           # that bound for n distinct ids, in bytes
    grow: Callable[[Any, int], None] | None = None  # learns the i-th distinct user or item
    measured: Callable[[Any], Any] = lambda model: model  # what holds the memory


def context(i: int) -> dict[str, float]:
    rng = random.Random(i)
    return {"bias": 1.0, f"seg:{i % 4}": 1.0, "recency": rng.random()}


def bandit(make: Callable[[int], Any], name: str) -> Case:
    def learn(model: Any, i: int) -> None:
        arm, _ = model.pull(list(ARMS), context(i))
        model.update(arm, float(i % 3 == 0), context(i))

    def hostile(model: Any) -> None:
        for bad in (math.nan, math.inf):
            with pytest.raises(ValueError):
                model.update(ARMS[0], bad, context(0))
        model.update(ARMS[0], 1.0, {"bias": 1e300, "recency": -1e300})  # clipped

    return Case(name, make, learn, lambda m, _: m.pull(list(ARMS), context(7)), hostile,
                "O(arms x features^2): nothing per user", lambda n: 200_000,
                grow=lambda m, i: m.update(ARMS[i % len(ARMS)], 1.0, context(i)))


def segment_case() -> Case:
    def x(i: int) -> dict[str, float]:
        return {f"pref:{i % 16}": 1.0, "activity": (i % 10) / 10, f"device:{i % 3}": 1.0}

    def hostile(model: SegmentModel) -> None:
        with pytest.raises(ValueError):
            model.learn_one({"activity": math.nan})
        model.learn_one({"activity": 1e300})  # clipped to 1
        assert all(math.isfinite(v) for c in model.centers.values() for v in c.values())

    return Case("segments (k-means)", lambda seed: SegmentModel(4, seed=seed),
                lambda m, i: m.learn_one(x(i)), lambda m, _: m.predict_one(x(3)), hostile,
                "O(segments x features): features are hashed, nothing per user",
                lambda n: 50_000, grow=lambda m, i: m.learn_one(x(i)))


def revisit_case() -> Case:
    def x(i: int) -> dict[str, Any]:
        return {f"i{(i + k) % 7}": revisit_features(k, float(k + i % 3), k == 1, False)
                for k in range(4)}

    def hostile(model: RevisitRanker) -> None:
        with pytest.raises(ValueError):
            model.learn_one({"a": (0, math.nan, 0.0, 0.0), "b": (1, 0.0, 0.0, 0.0)}, "a")

    return Case("revisit ranker", lambda seed: RevisitRanker(seed=seed),
                lambda m, i: m.learn_one(x(i), f"i{(i + 1) % 7}"),
                lambda m, _: m.predict_one(x(5)), hostile,
                "O(1): 11 weights and its random generator's state", lambda n: 8_000,
                grow=lambda m, i: m.learn_one(x(i), f"i{(i + 1) % 7}"))


class AlsStream:
    """ALS learns in mini-batches: the stream collects interactions, predictions refit."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.users: list[str] = []
        self.items: list[str] = []

    def learn(self, i: int) -> None:
        self.users.append(f"u{i % 13}")
        self.items.append(f"i{(i * 7) % 17}")

    def predict(self, probe: str) -> Any:
        if not self.users:
            return []
        model = ImplicitALS(4, iterations=3, seed=self.seed).fit(
            self.users, self.items, [1.0] * len(self.users)).item_model("v")
        user = model.fold_in({probe: 1.0, "i0": 1.0})
        return [] if user is None else model.top_n(user, 5, {probe})


def als_case() -> Case:
    def hostile(stream: AlsStream) -> None:
        with pytest.raises(ValueError):
            ImplicitALS(2).fit(["u"], ["i"], [math.nan])
        factors = ItemFactors("v", ["a"], np.ones((1, 2)), 0.1, 1.0)
        with pytest.raises(ValueError):
            factors.fold_in({"a": math.inf})

    def grow(stream: AlsStream, i: int) -> None:
        stream.users.append(f"u{i}")
        stream.items.append(f"i{i}")

    def fitted(stream: AlsStream) -> ImplicitALS:
        return ImplicitALS(4, iterations=1, seed=0).fit(stream.users, stream.items,
                                                        [1.0] * len(stream.users))

    return Case("ALS and item factors", AlsStream, AlsStream.learn, AlsStream.predict, hostile,
                "O((users + items) x (factors + id length)): users and items are rows",
                lambda n: 2 * n * (4 * 8 + 40), grow=grow, measured=fitted)


def cooccurrence_case() -> Case:
    def learn(state: ItemState, i: int) -> None:
        state.add_neighbour(f"i{(i * 3) % 11}")

    return Case("co-occurrence (space-saving)", lambda seed: ItemState(3_600_000, 10), learn,
                lambda m, _: m.neighbours.ranked(), lambda m: None,
                "O(k): the k co-occurring items kept per item", lambda n: 2_000,
                grow=lambda m, i: m.add_neighbour(f"i{i}"))


def content_case() -> Case:
    words = ["wool", "trail", "shoe", "hat", "red", "blue", "cotton", "sock"]

    def record(i: int) -> dict[str, Any]:
        return {"item_id": f"i{i % 23}", "title": f"{words[i % 8]} {words[(i * 3) % 8]}",
                "category_path": [f"c{i % 3}"], "brand": f"b{i % 5}", "price": float(i % 50)}

    def hostile(model: ContentSimilarity) -> None:
        for bad in (math.nan, math.inf):
            with pytest.raises(ValueError):
                model.learn_one({"item_id": "x", "title": "wool", "price": bad})
        model.learn_one({"item_id": "x", "title": "wool", "price": 1e300})  # the top band

    return Case("content similarity", lambda seed: ContentSimilarity(n=5, seed=seed),
                lambda m, i: m.learn_one(record(i)),
                lambda m, probe: m.predict_one({"item_id": probe, "title": "wool hat"}),
                hostile, "O(items x tokens per item): a vector and postings per item",
                lambda n: n * 400,
                grow=lambda m, i: m.learn_one({"item_id": f"n{i}", "title": f"{words[i % 8]}",
                                               "brand": f"b{i % 50}"}))


def session_knn_case(weighted: bool) -> Case:
    def session(i: int) -> list[str]:
        return [f"i{(i * 7 + j) % 19}" for j in range(1 + i % 4)]

    def hostile(model: SessionKNN) -> None:
        model.learn_one([])  # an empty session is no session
        model.learn_one(["x"] * 10_000)  # a huge one of one item
        assert model.predict_one([]) == []

    return Case("V-SKNN" if weighted else "SKNN",
                lambda seed: SessionKNN(k=20, sample=50, max_sessions=1_000, weighted=weighted,
                                        seed=seed),
                lambda m, i: m.learn_one(session(i)),
                lambda m, probe: m.predict_one([probe, "i3"], n=5), hostile,
                "O(max_sessions x session length): older sessions are dropped",
                lambda n: 1_000 * 200, grow=lambda m, i: m.learn_one([f"n{i}", f"n{i + 1}"]))


def knn_imputer_case() -> Case:
    def x(i: int) -> dict[str, float]:
        return {f"device:{i % 3}": 1.0, f"category:{i % 5}": 1.0}

    def hostile(model: KNNImputer) -> None:
        for bad in (math.nan, math.inf):
            with pytest.raises(ValueError):
                model.learn_one(x(0), bad)
            with pytest.raises(ValueError):
                model.learn_one({"device:0": bad}, 1.0)

    return Case("KNN imputer", lambda seed: KNNImputer(k=5, window=100, seed=seed),
                lambda m, i: m.learn_one(x(i), float(i % 7)),
                lambda m, probe: m.predict_one({f"device:{probe}": 1.0}), hostile,
                "O(window): the last observations only", lambda n: 30_000,
                grow=lambda m, i: m.learn_one({f"user:{i}": 1.0}, 1.0))


class Trending:
    """Items' decayed scores offered to per-category top lists, recommended from."""

    def __init__(self, seed: int) -> None:
        self.scores: dict[str, float] = {}
        self.tops = {c: TopItems(20) for c in ("c0", "c1")}
        self.popular = TopItems(20)

    def learn(self, i: int) -> None:
        item, category = f"i{(i * 5) % 23}", f"c{i % 2}"
        self.scores[item] = add_decayed(self.scores.get(item), 1.0, i * 60_000, 3_600_000)
        self.tops[category].offer(item, self.scores[item])
        self.popular.offer(item, self.scores[item])

    def grow(self, i: int) -> None:
        score = add_decayed(None, 1.0, i, 3_600_000)
        self.tops["c0"].offer(f"n{i}", score)
        self.popular.offer(f"n{i}", score)

    def trending(self, probe: str) -> Any:
        ranked = {c: t.ranked() for c, t in self.tops.items()}
        return TrendingRecommender(10).recommend({"c0": 0.7, probe: 0.3}, ranked.get,
                                                 self.popular.ranked(), {"i1"})

    def popular_list(self, probe: str) -> Any:
        return TrendingRecommender(10).popular(self.popular.ranked(), {probe}, 10)

    def hostile(self) -> None:
        with pytest.raises(ValueError):
            add_decayed(None, math.nan, 0, 3_600_000)
        with pytest.raises(ValueError):
            self.popular.offer("x", math.inf)


def top_case(name: str, predict: Callable[[Trending, str], Any]) -> Case:
    return Case(name, Trending, Trending.learn, predict, Trending.hostile,
                "O(n): the n items of each top list", lambda n: 10_000, grow=Trending.grow)


class Blend:
    """The serving blend over a pool: stateless, so the stream changes the pool it blends."""

    def __init__(self, seed: int) -> None:
        self.pool: list[tuple[str, float, str, str, str]] = []

    def learn(self, i: int) -> None:
        source = ("recent", "category", "popular")[i % 3]
        self.pool = [*self.pool, (f"i{i % 31}", (i % 10) / 10, source, source, "")][-60:]

    def predict(self, probe: str) -> Any:
        return serve(self.pool, ARMS[0], {probe}, 10, diversity=0.3)

    def hostile(self) -> None:
        pool = [("a", math.nan, "recent", "recent", ""), ("b", 1e300, "popular", "", "")]
        assert [item for item, *_ in serve(pool, ARMS[0], (), 5)] == ["b"]  # NaN dropped


CASES = [
    segment_case(),
    bandit(lambda seed: LinearThompsonSampling(FEATURES, seed=seed), "linear Thompson sampling"),
    bandit(lambda seed: LinUCB(FEATURES, seed=seed), "LinUCB"),
    bandit(lambda seed: RiverBandit("epsilon_greedy", seed=seed), "River epsilon-greedy"),
    bandit(lambda seed: RiverBandit("ucb", seed=seed), "River UCB"),
    Case("policy statistics (the job's learner)", lambda seed: PolicyStatistics(FEATURES),
         lambda m, i: m.update(ARMS[i % 4], context(i), float(i % 2)),
         lambda m, _: sorted((a, s.xty.round(9).tolist()) for a, s in m.arms.items()),
         lambda m: m.update(ARMS[0], {"bias": 1e300}, 1.0), "O(arms x features^2)",
         lambda n: 200_000, grow=lambda m, i: m.update(ARMS[i % 4], context(i), 1.0)),
    revisit_case(),
    als_case(),
    cooccurrence_case(),
    content_case(),
    session_knn_case(weighted=False),
    session_knn_case(weighted=True),
    knn_imputer_case(),
    top_case("trending", Trending.trending),
    top_case("popular", Trending.popular_list),
    Case("candidate blend", Blend, Blend.learn, Blend.predict, Blend.hostile,
         "stateless", lambda n: 10_000),
]


def outputs(case: Case, model: Any) -> Any:
    return [case.predict(model, probe) for probe in ("i1", "c1", "new", "")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_same_seed_gives_the_same_outputs(case):
    a, b = case.make(7), case.make(7)
    for i in range(60):
        case.learn(a, i)
        case.learn(b, i)
    assert repr(outputs(case, a)) == repr(outputs(case, b))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_pickle_round_trip_mid_stream_changes_nothing_that_follows(case):
    model = case.make(3)
    for i in range(30):
        case.learn(model, i)
    copy = pickle.loads(pickle.dumps(model))
    for i in range(30, 60):
        case.learn(model, i)
        case.learn(copy, i)
    assert repr(outputs(case, model)) == repr(outputs(case, copy))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_answers_before_learning_and_for_unseen_ids(case):
    fresh = case.make(1)
    outputs(case, fresh)  # no error before any learning
    learned = case.make(1)
    for i in range(20):
        case.learn(learned, i)
    assert case.predict(learned, "never-seen-id") is not None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_numbers_are_refused_or_clipped_and_the_model_stays_usable(case):
    model = case.make(2)
    for i in range(20):
        case.learn(model, i)
    case.hostile(model)
    answer = repr(outputs(case, model))
    assert "nan" not in answer and "inf" not in answer


@pytest.mark.parametrize("case", [c for c in CASES if c.grow is not None],
                         ids=lambda c: c.name)
def test_memory_after_100k_distinct_ids_stays_within_the_documented_bound(case):
    model = case.make(0)
    for i in range(DISTINCT):
        case.grow(model, i)
    size = len(pickle.dumps(case.measured(model)))
    print(f"{case.name}: {size:,} bytes pickled after {DISTINCT:,} distinct ids "
          f"(bound: {case.bound})")
    assert size <= case.max_bytes(DISTINCT)
