"""The servicer's answer logic over a real serving store (rocksdict on disk)."""

import asyncio
import json

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from online_models.bandit_context import context_features
from online_models.policy_stats import PolicyStatistics
from reco.config import Settings
from reco.keys import country_list_key, segment_list_key
from reco.v1 import recommendations_pb2 as pb
from serving.requests import request_problem
from serving.servicer import RecommendationsServicer
from serving.store import (
    ITEMS,
    POLICY,
    POPULAR_LISTS,
    RECOMMENDATIONS,
    SEGMENTS,
    Change,
    Store,
)
from tests.unit.conftest import rec_list

FIXED = Settings(model_version="default", policy="fixed:personal")


def ask(store, user, k=10, exclude=(), settings=FIXED, context=None):
    servicer = RecommendationsServicer(store, settings)
    return servicer.recommend(pb.GetRecommendationsRequest(
        user_id=user, k=k, exclude_item_ids=exclude, context=context))[0]


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
    servicer = RecommendationsServicer(store, FIXED)
    with pytest.raises(grpc.RpcError) as caught:
        asyncio.run(servicer.GetRecommendations(
            pb.GetRecommendationsRequest(user_id="u1", k=0), AbortingContext()))
    assert caught.value.args == (grpc.StatusCode.INVALID_ARGUMENT,
                                 "k must be between 1 and 100, got 0")


def pool_list(user, entries, features=None):
    return pb.RecommendationList(user_id=user, last_event_ts=1, features=features or {}, items=[
        pb.RecommendedItem(item_id=i, score=s, source=src, reason=src, category=c)
        for i, s, src, c in entries]).SerializeToString()


def test_the_mix_decides_the_order_and_every_item_says_its_source(store):
    store.apply([Change(RECOMMENDATIONS, "u2", pool_list("u2", [
        ("r1", 1.0, "recent", ""), ("t1", 1.0, "category", "shoes"),
        ("p1", 1.0, "popular", "")]))], {})
    personal = ask(store, "u2", k=3)
    trending = ask(store, "u2", k=3, settings=Settings(policy="fixed:trending"))
    assert [i.item_id for i in personal.items] == ["r1", "t1", "p1"]
    assert [i.item_id for i in trending.items] == ["t1", "r1", "p1"]
    assert [i.source for i in personal.items] == ["recent", "category", "popular"]
    assert personal.arm == "personal" and personal.policy == "fixed:personal"
    assert all(i.propensity == 1.0 for i in personal.items)


def test_cooccurring_items_of_recent_ones_join_the_pool(store):
    store.apply([Change(RECOMMENDATIONS, "u3", pool_list("u3", [("r1", 1.0, "recent", "")])),
                 Change(ITEMS, "r1", pb.ItemFeatures(item_id="r1", co_occurring=[
                     pb.ItemAffinity(item_id="c1", affinity=4.0),
                     pb.ItemAffinity(item_id="c2", affinity=2.0)]).SerializeToString())], {})
    reply = ask(store, "u3", k=3, settings=Settings(policy="fixed:similar"))
    assert [(i.item_id, i.source) for i in reply.items] == [
        ("c1", "cooccur"), ("r1", "recent"), ("c2", "cooccur")]


def item_record(item, neighbours):
    return pb.ItemFeatures(item_id=item, co_occurring=[
        pb.ItemAffinity(item_id=other, affinity=affinity)
        for other, affinity in neighbours]).SerializeToString()


def test_a_changed_item_record_reaches_the_next_answer_though_the_list_did_not_change(store):
    """A prepared list also depends on its recent items' co-occurrences: when one of their
    records changes, the next request rebuilds it; while nothing changes, it is kept."""
    servicer = RecommendationsServicer(store, Settings(policy="fixed:similar"))
    request = pb.GetRecommendationsRequest(user_id="u3", k=2)
    store.apply([Change(RECOMMENDATIONS, "u3", pool_list("u3", [("r1", 1.0, "recent", "")])),
                 Change(ITEMS, "r1", item_record("r1", [("c1", 4.0)]))], {})
    first = servicer.recommend(request).response
    assert [i.item_id for i in first.items] == ["c1", "r1"]
    prepared = servicer._prepared["u3"][2]
    servicer.recommend(request)
    assert servicer._prepared["u3"][2] is prepared  # nothing changed: not rebuilt
    store.apply([Change(ITEMS, "r1", item_record("r1", [("c2", 4.0)]))], {})
    assert [i.item_id for i in servicer.recommend(request).response.items] == ["c2", "r1"]


def test_answers_are_copies_that_a_later_answer_does_not_change(store):
    settings = Settings(policy="linear-ts", policy_seed=5)
    servicer = RecommendationsServicer(store, settings)
    answers = [servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
               for _ in range(30)]
    assert len({a.response.request_id for a in answers}) == 30
    for answer in answers:
        logged = json.loads(answer.impression_items)
        assert [i["propensity"] for i in logged] == [i.propensity for i in answer.response.items]
        assert answer.response.policy_version == "linear-ts@0"
    assert len({a.response.items[0].propensity for a in answers}) > 1  # draws differ


def test_the_impression_record_is_the_json_of_its_fields_whatever_their_strings():
    from serving.impressions import impression_json

    awkward = ['a"b\\', "\u00e9t\u00e9 \U0001F600", "\n\t", '{"k":1}', ""]
    request = pb.GetRecommendationsRequest(user_id=awkward[0], k=7, context=pb.Context(
        device=awkward[1], country=awkward[2], ts=1_795_680_000_000, region=awkward[3],
        timezone=awkward[4], extra={awkward[3]: awkward[0], "page": "pdp"}))
    response = pb.GetRecommendationsResponse(
        request_id=awkward[1], model_version=awkward[2], policy="linear-ts",
        policy_version=awkward[3], arm="personal", segment=awkward[0], cold_start=True)
    features = {"bias": 1.0, awkward[0]: -0.0, "recency": 1e-300}
    record = impression_json(request, response, 5, features, '[{"item_id":"a"}]',
                             placement=awkward[2])
    assert json.loads(record) == {
        "request_id": awkward[1], "placement": awkward[2], "user_id": awkward[0], "k": 7,
        "served_at_ms": 5,
        "model_version": awkward[2], "policy": "linear-ts", "policy_version": awkward[3],
        "arm": "personal", "segment": awkward[0], "cold_start": True, "features": features,
        "context": {"device": awkward[1], "country": awkward[2], "ts": 1_795_680_000_000,
                    "region": awkward[3], "timezone": awkward[4], awkward[3]: awkward[0],
                    "page": "pdp"},
        "items": [{"item_id": "a"}]}
    assert record.isascii()  # as json.dumps writes it: safe for any consumer's decoder


def test_impression_json_survives_item_ids_that_look_like_its_own_markup(store):
    awkward = ['{"propensity":0,', 'a"b\\', "\u00e9t\u00e9"]
    store.apply([Change(RECOMMENDATIONS, "u4", pool_list("u4", [
        (item, 1.0 - n / 10, "recent", "") for n, item in enumerate(awkward)]))], {})
    answer = RecommendationsServicer(store, FIXED).recommend(
        pb.GetRecommendationsRequest(user_id="u4", k=3))
    logged = json.loads(answer.impression_items)
    assert [(i["item_id"], i["position"], i["propensity"]) for i in logged] == [
        (item, n, 1.0) for n, item in enumerate(awkward)]


def test_the_policy_uses_the_jobs_latest_statistics_and_logs_propensities(store):
    settings = Settings(policy="linear-ts", policy_seed=3)
    servicer = RecommendationsServicer(store, settings)
    before, seen, _ = servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
    assert before.policy_version == "linear-ts@0"
    shard = PolicyStatistics(context_features(settings.segments))
    for _ in range(200):  # in this context the "explore" mix paid, the others did not
        for arm in ("personal", "similar", "trending", "explore"):
            shard.update(arm, seen, reward=1.0 if arm == "explore" else 0.0)
    store.apply([Change(POLICY, "shard-0", shard.to_message("shard-0", 1).SerializeToString())],
                {})
    reply, context, _ = servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
    assert reply.policy_version == "linear-ts@800" and reply.arm == "explore"
    assert context["bias"] == 1.0 and all(0 < i.propensity <= 1 for i in reply.items)


def test_the_policy_leaves_out_shards_an_older_job_published_on_another_reward_scale(store):
    settings = Settings(policy="linear-ts", policy_seed=3)
    servicer = RecommendationsServicer(store, settings)
    _, seen, _ = servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
    features = context_features(settings.segments)
    current, older = PolicyStatistics(features), PolicyStatistics(features)
    for _ in range(50):
        current.update("explore", seen, reward=1.0)
        older.update("personal", seen, reward=1.0)
    old_message = older.to_message("shard-1", 1)
    old_message.ClearField("format")  # as a job before the field publishes it
    store.apply([Change(POLICY, "shard-0", current.to_message("shard-0", 1).SerializeToString()),
                 Change(POLICY, "shard-1", old_message.SerializeToString())], {})
    reply, _, _ = servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
    assert reply.policy_version == "linear-ts@50"  # the current shard's rewards alone


def test_a_new_user_gets_a_segment_from_context_alone(store):
    summary = pb.SegmentModelSummary(instance="instance-0", segments=[
        pb.Segment(id=0, size=5, centroid={"device:mobile": 1.0}),
        pb.Segment(id=1, size=5, centroid={"device:desktop": 1.0})])
    store.apply([Change(SEGMENTS, "instance-0", summary.SerializeToString())], {})
    reply = ask(store, "stranger", context=pb.Context(device="desktop"))
    assert reply.cold_start and reply.segment == "1"
    assert ask(store, "stranger", context=pb.Context(device="mobile")).segment == "0"


def test_unknown_policies_are_refused_with_the_choices(store):
    with pytest.raises(ValueError, match="fixed:<mix>"):
        RecommendationsServicer(store, Settings(policy="greedy"))


def store_device_segments(store):
    """Two segments, mobile (0) and desktop (1); segment 1 has a cold-start list: d1."""
    summary = pb.SegmentModelSummary(instance="instance-0", segments=[
        pb.Segment(id=0, size=5, centroid={"device:mobile": 1.0}),
        pb.Segment(id=1, size=5, centroid={"device:desktop": 1.0})])
    segment_list = pb.RecommendationList(user_id=segment_list_key(1), items=[
        pb.RecommendedItem(item_id="d1", score=1.0, source="popular",
                           reason="popular:segment=1")]).SerializeToString()
    store.apply([Change(SEGMENTS, "instance-0", summary.SerializeToString()),
                 Change(POPULAR_LISTS, segment_list_key(1), segment_list)], {})


def test_a_new_user_gets_the_list_of_their_segment_when_there_is_one(store):
    store_device_segments(store)  # desktop: segment 1, with a list of its own
    desktop = ask(store, "stranger", context=pb.Context(device="desktop"))
    # the segment's list leads, topped up with the global one (a segment's list can be short)
    assert desktop.cold_start and [i.item_id for i in desktop.items] == ["d1", "p", "a", "q", "r"]
    assert [i.reason for i in desktop.items][:2] == ["popular:segment=1", "popular"]
    mobile = ask(store, "stranger", context=pb.Context(device="mobile"), k=2)
    assert [i.item_id for i in mobile.items] == ["p", "a"]  # segment 0 has no list: global


def test_a_changed_list_is_served_at_once_and_the_impression_says_what_was_shown(store):
    """Lists are prepared once per stored version: a new version is served by the next
    request, and the impression (its items JSON prepared with the list) matches the reply."""
    from reco.impressions import parse_impression
    from serving.impressions import impression_json

    servicer = RecommendationsServicer(store, Settings(policy="linear-ts", policy_seed=1))
    request = pb.GetRecommendationsRequest(user_id="u1", k=2)
    assert [i.item_id for i in servicer.recommend(request).response.items] == ["a", "b"]
    store.apply([Change(RECOMMENDATIONS, "u1", rec_list("u1", ["z", "a"]))], {})
    answer = servicer.recommend(request)
    assert [i.item_id for i in answer.response.items] == ["z", "a"]
    record = impression_json(request, answer.response, 1_795_680_000_000, answer.features,
                             answer.impression_items)
    logged = parse_impression(record.encode())
    assert logged.request_id == answer.response.request_id and logged.arm == answer.response.arm
    assert logged.items == tuple((i.item_id, i.propensity) for i in answer.response.items)
    assert logged.features == answer.features


def test_a_policy_reload_continues_the_random_draws_instead_of_restarting_them(store):
    settings = Settings(policy="linear-ts", policy_seed=3)
    servicer = RecommendationsServicer(store, settings)
    _, seen, _ = servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))
    shard = PolicyStatistics(context_features(settings.segments))
    for arm in ("personal", "similar", "trending", "explore"):
        for _ in range(5):  # every mix as good as the others: each request is a fresh draw
            shard.update(arm, seen, reward=0.0)
    arms = []
    for n in range(20):  # the job publishes (the same statistics) before every request
        store.apply([Change(POLICY, "shard-0",
                            shard.to_message("shard-0", n).SerializeToString())], {})
        arms.append(servicer.recommend(pb.GetRecommendationsRequest(user_id="u1", k=2))[0].arm)
    assert len(set(arms)) > 1, arms


@pytest.mark.parametrize(("context", "field"), [
    (pb.Context(timezone="Europe"), "context.timezone"),
    (pb.Context(timezone="America/Argentina"), "context.timezone"),
    (pb.Context(timezone="x" * 300), "context.timezone"),
    (pb.Context(ts=10**15), "context.ts"),
    (pb.Context(ts=2**63 - 1), "context.ts"),
    (pb.Context(ts=-(2**63)), "context.ts"),
    (pb.Context(region="r" * 1_000_000), "context.region"),
    (pb.Context(extra={"k": "v" * 1_000_000}), "context.extra"),
    (pb.Context(extra={f"k{n}": "v" for n in range(100)}), "context.extra"),
])
def test_bad_context_fields_are_named(context, field):
    from serving.requests import recommendations_request_problem
    problem = recommendations_request_problem(
        pb.GetRecommendationsRequest(user_id="u1", k=5, context=context))
    assert problem and problem.startswith(field)


def test_unparseable_request_bytes_become_none_for_an_invalid_argument_answer():
    from serving.requests import lenient
    parse = lenient(pb.GetRecommendationsRequest)
    assert parse(b"\x0a\x02\xff\xfe") is None  # user_id holding invalid UTF-8
    assert parse(b"\xff\xff\xff") is None      # not protobuf at all
    assert parse(pb.GetRecommendationsRequest(user_id="u").SerializeToString()).user_id == "u"


@given(context=st.builds(
    pb.Context, device=st.text(max_size=70), country=st.text(max_size=70),
    ts=st.integers(-(2**63), 2**63 - 1) | st.integers(946_684_800_000, 4_102_444_799_999),
    region=st.text(max_size=10), timezone=st.sampled_from(["", "UTC", "Asia/Tokyo", "Europe"]),
    extra=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)))
@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_request_that_passes_validation_is_answered(store, context):
    from serving.requests import recommendations_request_problem
    request = pb.GetRecommendationsRequest(user_id="stranger", k=3, context=context)
    if recommendations_request_problem(request) is None:
        assert RecommendationsServicer(store, FIXED).recommend(request).response.items


def test_an_impression_that_cannot_be_written_never_fails_the_lookup():
    from serving.impressions import ImpressionLog
    log = ImpressionLog(Settings(kafka_bootstrap="127.0.0.1:1"))
    request = pb.GetRecommendationsRequest(user_id="u1", k=1, context=pb.Context(
        extra={"blob": "x" * 2_000_000}))  # over the producer's message.max.bytes
    log.log(request, pb.GetRecommendationsResponse(request_id="r"), {}, "[]")
    assert log.dropped == 1 and log.sent == 0


def test_the_home_pages_popular_items_follow_the_visitors_segment(store):
    store_device_segments(store)  # desktop: segment 1, with a list of its own
    servicer = RecommendationsServicer(store, Settings(policy="fixed:personal"))

    def home(device: str) -> list[tuple[str, str]]:
        request = pb.GetPopularItemsRequest(k=2, context=pb.Context(device=device))
        return [(i.item_id, i.reason) for i in servicer.popular(request).response.items]

    assert home("desktop") == [("d1", "popular:segment=1"), ("p", "popular:top-up")]
    assert [item for item, _ in home("mobile")] == ["p", "a"]  # no list for its segment


def test_the_home_pages_popular_items_lead_with_the_visitors_country(store):
    store_device_segments(store)
    german = pb.RecommendationList(user_id=country_list_key("DE"), items=[
        pb.RecommendedItem(item_id="g1", score=1.0, source="popular", reason="popular")])
    store.apply([Change(POPULAR_LISTS, country_list_key("DE"), german.SerializeToString())], {})
    servicer = RecommendationsServicer(store, Settings(policy="fixed:personal"))

    def home(country: str, device: str = "") -> list[str]:
        request = pb.GetPopularItemsRequest(k=3, context=pb.Context(country=country,
                                                                    device=device))
        return [i.item_id for i in servicer.popular(request).response.items]

    assert home(country="de", device="desktop") == ["g1", "d1", "p"]  # then segment, global
    assert home(country="DE") == ["g1", "p", "a"]
    assert home(country="FR", device="desktop") == ["d1", "p", "a"]  # no list for France
    assert home(country="Germany") == ["p", "a", "q"]  # not an ISO code: no country list
