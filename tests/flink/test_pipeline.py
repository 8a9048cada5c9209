"""The whole pipeline on a Flink MiniCluster (thread mode, RocksDB, parallelism 2) fed from a
collection: what it publishes for crafted users, simulated shoppers and bad input."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import Any

import pytest

from features.profile_view import profile_message
from infra.producer import event_to_proto
from reco.decay import EVENT_WEIGHTS, add_decayed
from reco.events import Event, InvalidEvent, parse_event
from reco.keys import COUNTRY_LIST_PREFIX, GLOBAL_LIST, SEGMENT_LIST_PREFIX
from reco.simulator import ShopperSimulation, SimConfig
from reco.v1 import recommendations_pb2 as pb
from tests.flink.harness import ALLOW, PAUSE, T0, ev, last_by_key, pseudonyms_of, run_pipeline
from userstep.engine import FeatureEngine

pytestmark = pytest.mark.flink
BAD = [b"{not json", b'{"event_id": "b1", "event_type": "zap", "user_id": "u", "ts": 1}',
       b'{"event_id": "b2", "event_type": "click", "item_id": "i", "ts": 1795680000000}',
       b"\xff\xfe\xfd"]




def crowd() -> list[Event]:
    views = [ev(n, f"crowd{n % 5}", "product_view", f"s{n % 3 + 1}", "shoes") for n in range(30)]
    return views + [ev(100 + n, f"crowd{n % 5}", "add_to_cart", "b1", "bags") for n in range(10)]


def alice() -> list[Event]:
    """Sent last, when the top lists have long been broadcast."""
    return [ev(200, "alice", "product_view", "s1", "shoes"),
            ev(201, "alice", "product_view", "s2", "shoes"),
            ev(202, "alice", "purchase", "s1", "shoes", price=30.0, quantity=1)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from reco.config import Settings

    sim = ShopperSimulation(SimConfig(n_users=30, n_items=200, seed=1, bot_share=0.1))
    simulated = list(sim.events())
    duplicate = ev(300, "dup", "click", "s3", "shoes")
    records = [e.to_json() for e in crowd()]
    records += [BAD[0], *[e.to_json() for e in simulated[:50]], BAD[1], BAD[2]]
    records += [e.to_json() for e in simulated[50:]] + [BAD[3]]
    records += [duplicate.to_json()] * 3 + [PAUSE] + [e.to_json() for e in alice()]
    records.append(event_to_proto(ev(400, "pb-user", "wishlist", "s2", "shoes")))
    settings = Settings(job_parallelism=2, restart_attempts=0, top_emit_interval_ms=0,
                        consent_default=ALLOW,
                        trending_emit_ratio=1.0, profile_min_interval_ms=0,
                        checkpoint_dir=str(tmp_path_factory.mktemp("ck")),
                        stack_dir=str(tmp_path_factory.mktemp("flink")))
    engine = FeatureEngine(settings)
    verdicts = []
    for record in records:
        try:
            event = parse_event(record)
        except InvalidEvent:
            continue
        verdicts.append((event, engine.process(event)))
    out = run_pipeline(records, settings)
    return {"out": out, "engine": engine, "verdicts": verdicts, "settings": settings,
            "bots": sim.bot_user_ids()}


def test_every_bad_record_is_dead_lettered_with_its_reason(run):
    letters = [json.loads(s) for s in run["out"]["dead_letters"]]
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(letters) == len(BAD)
    assert any(r.startswith("malformed JSON") for r in reasons)
    assert any(r.startswith("unknown event_type 'zap'") for r in reasons)
    assert "missing user_id" in reasons
    assert any("neither a JSON object nor a protobuf" in r for r in reasons)
    assert all(letter["topic"] == "events.test" and letter["offset"] >= 0 for letter in letters)


def test_profiles_equal_the_pure_logic_over_the_same_events(run):
    profiles = last_by_key(run["out"]["profiles"], pb.UserProfile)
    engine = run["engine"]
    assert set(engine.profiles) == set(profiles)
    for user, state in engine.profiles.items():
        expected = profile_message(state, user, state.last_seen, 0, engine.population,
                                   engine.config)
        got = profiles[user]
        for field in ("event_count", "event_type_counts", "recent_item_ids",
                      "purchased_item_ids", "category_counts", "item_affinities",
                      "sessions.count", "sessions.incomplete", "rfm.frequency",
                      "rfm.monetary", "filtered_events", "flagged_until_ms", "first_seen_ms",
                      "last_seen_ms", "last_event_id", "context.country",
                      "context.device_type"):
            value = got
            want = expected
            for part in field.split("."):
                value, want = getattr(value, part), getattr(want, part)
            assert value == want, (user, field)
        assert dict(got.category_preferences) == pytest.approx(
            dict(expected.category_preferences)), user
        for window, want in zip(got.windows, expected.windows, strict=True):
            assert dict(window.event_counts) == dict(want.event_counts), user
            assert dict(window.category_counts) == dict(want.category_counts), user
            assert window.dwell_ms_sum == want.dwell_ms_sum, user
            assert window.scroll_depth_mean == pytest.approx(want.scroll_depth_mean), user


def test_bots_are_filtered_with_their_rule_and_never_learned_from(run):
    filtered = [json.loads(value) for _, value in run["out"]["filtered"]]
    bots = run["bots"]
    ids = pseudonyms_of(run["settings"])  # the filtered events name their users so
    assert bots and {f["event"]["user_id"] for f in filtered if f["rule"] != "dwell_too_long"} \
        == {ids.of(bot) for bot in bots}
    assert {f["rule"].split(":")[0] for f in filtered} >= {"flagged"}
    profiles = last_by_key(run["out"]["profiles"], pb.UserProfile)
    for bot in bots:
        assert profiles[bot].filtered_events > 0
        assert profiles[bot].event_count < 5  # at most what came before the rule fired
    expected = sum(1 for _, rule in run["verdicts"] if rule not in (None, "duplicate"))
    assert len(filtered) == expected


def test_duplicates_are_counted_once_and_protobuf_is_accepted(run):
    profiles = last_by_key(run["out"]["profiles"], pb.UserProfile)
    assert profiles["dup"].event_count == 1
    assert profiles["pb-user"].event_type_counts["wishlist"] == 1


def test_a_users_pool_holds_what_she_bought_only_as_her_own_and_says_why(run):
    # the top lists were broadcast during the pause before her events
    lists = last_by_key(run["out"]["recommendations"], pb.RecommendationList)
    alice = lists["alice"]
    # her own items, the bought one too (the revisit ranker orders them); no other source
    # lists what she bought, and it is not excluded since it is relisted
    recent = [i.item_id for i in alice.items if i.source == "recent"]
    assert sorted(recent) == ["s1", "s2"]
    assert "s1" not in [i.item_id for i in alice.items if i.source != "recent"]
    assert list(alice.excluded_item_ids) == []
    # and what sessions like hers went on to (the session kNN over the sessions the job saw)
    assert {i.source for i in alice.items} == {"recent", "session", "category", "new",
                                               "popular"}
    assert {i.reason for i in alice.items} <= {"trending:category=shoes", "popular", "recent",
                                               "new:category=shoes", "session-knn"}
    assert all(0 < i.score <= 1 for i in alice.items)
    assert alice.last_event_id.startswith("alice-")
    assert alice.segment and alice.features["activity"] > 0
    categories = {e.item_id: e.category for e, _ in run["verdicts"]}
    assert all(categories[i.item_id] == "shoes" for i in alice.items
               if i.reason in ("trending:category=shoes", "new:category=shoes"))


def test_items_carry_content_features_first_seen_and_price_band(run):
    items = last_by_key(run["out"]["item_features"], pb.ItemFeatures)
    first = min(e.ts for e, rule in run["verdicts"] if e.item_id == "s1" and rule is None)
    assert items["s1"].first_seen_ms == first and items["s1"].category == "shoes"
    assert items["s1"].price_band == 5  # alice paid 30: the 16-32 band


def test_lists_are_published_only_when_they_change(run):
    per_user = Counter(key for key, _ in run["out"]["recommendations"])
    profiles = Counter(key for key, _ in run["out"]["profiles"])
    assert sum(per_user.values()) < sum(profiles.values())
    assert all(per_user[user] <= profiles[user] for user in per_user)


def test_the_popular_list_is_the_top_of_the_decayed_item_scores(run):
    settings = run["settings"]
    scores: dict[str, float] = {}
    clean = sorted((e for e, rule in run["verdicts"] if rule is None), key=lambda e: e.ts)
    for event in clean:
        weight = EVENT_WEIGHTS[event.event_type]
        if weight > 0 and event.item_id:
            scores[event.item_id] = add_decayed(scores.get(event.item_id), weight, event.ts,
                                                settings.trending_half_life_ms)
    expected = sorted(scores, key=lambda i: -scores[i])[:10]
    lists = last_by_key(run["out"]["popular_lists"], pb.RecommendationList)
    popular = [i.item_id for i in lists[GLOBAL_LIST].items]
    assert len(popular) == settings.reco_list_size
    assert popular[:10] == expected
    assert all(i.reason == "popular" for i in lists[GLOBAL_LIST].items)




def test_item_features_count_interactions_and_session_neighbours(run):
    items = last_by_key(run["out"]["item_features"], pb.ItemFeatures)
    b1 = items["b1"]
    assert b1.category == "bags" and b1.interactions["24h"] >= 30  # ten add-to-carts
    # each crowd user viewed s1, s2 and s3 and carted b1 within one session
    assert {"s1", "s2", "s3"} & {n.item_id for n in b1.co_occurring}
    clean = [e for e, rule in run["verdicts"] if rule is None and e.item_id]
    assert set(items) <= {e.item_id for e in clean}
    assert all(f.co_occurring == sorted(f.co_occurring, key=lambda n: -n.affinity)
               for f in items.values())


def test_the_skeleton_dedups_publishes_lists_and_filters_nothing(tmp_path):
    """feature_engine = false: the skeleton's topology (no quality step), used to measure what
    the feature engine costs; its profiles carry counts only."""
    from reco.config import Settings

    settings = Settings(job_parallelism=2, restart_attempts=0, top_emit_interval_ms=0,
                        consent_default=ALLOW,
                        trending_emit_ratio=1.0, profile_min_interval_ms=0,
                        feature_engine=False, checkpoint_dir=str(tmp_path / "ck"),
                        stack_dir=str(tmp_path / "flink"))
    duplicate = ev(300, "dup", "click", "s3", "shoes")
    # a bot's burst: the feature engine would filter it, the skeleton does not. On an item of
    # its own: an item remembers its last 16 event ids, and the two parallel parsers may put the
    # burst between the copies of the duplicate
    burst = [Event(f"bot-{n}", "click", "bot", ts=T0, item_id="s9", category="shoes")
             for n in range(30)]
    # shoppers in between give the top lists time to reach the user operator before alice
    shoppers = ShopperSimulation(SimConfig(n_users=20, n_items=200, seed=2, bot_share=0.0))
    records = [e.to_json() for e in crowd() + burst] + [duplicate.to_json()] * 3
    records += [BAD[0]] + [e.to_json() for e in shoppers.events()]
    records += [e.to_json() for e in alice()]
    out = run_pipeline(records, settings)
    profiles = last_by_key(out["profiles"], pb.UserProfile)
    assert profiles["dup"].event_count == 1
    assert profiles["bot"].event_count == 30 and not out["filtered"]
    assert profiles["alice"].purchased_item_ids == ["s1"]
    assert not profiles["alice"].windows  # no feature engine, no windows
    lists = last_by_key(out["recommendations"], pb.RecommendationList)
    assert lists["alice"].items and "s1" not in [i.item_id for i in lists["alice"].items]
    assert len(out["dead_letters"]) == 1
    items = last_by_key(out["item_features"], pb.ItemFeatures)
    # the skeleton's trending counts each of the bot's clicks, and the duplicate once
    assert items["s9"].interactions["24h"] == pytest.approx(30 * EVENT_WEIGHTS["click"])
    s3 = {e.event_id: EVENT_WEIGHTS[e.event_type] for e in [*crowd(), duplicate]
          if e.item_id == "s3"}
    assert items["s3"].interactions["24h"] == pytest.approx(sum(s3.values()))


def test_impressions_join_later_events_into_rewards_that_update_the_policy(tmp_path):
    from online_models.policy_stats import PolicyStatistics
    from reco.config import Settings

    settings = Settings(job_parallelism=2, restart_attempts=0, top_emit_interval_ms=0,
                        consent_default=ALLOW,
                        profile_min_interval_ms=0, policy_publish_interval_ms=0,
                        checkpoint_dir=str(tmp_path / "ck"), stack_dir=str(tmp_path / "flink"))
    # served now: the job closes an impression's window by the wall clock, as the server's
    served = int(time.time() * 1000)

    ids = pseudonyms_of(settings)

    def impression(request_id: str, user: str, arm: str, items: list[str]) -> tuple[bytes, str]:
        # the server logs impressions under the user's pseudonym
        record = {"request_id": request_id, "user_id": ids.of(user), "served_at_ms": served,
                  "arm": arm, "policy": "linear-ts", "features": {"bias": 1.0, "seg:1": 1.0},
                  "items": [{"item_id": i, "position": n, "propensity": 0.5}
                            for n, i in enumerate(items)]}
        return json.dumps(record).encode(), "impressions"

    records: list[bytes | tuple[bytes, str]] = [e.to_json() for e in crowd()]
    records += [impression("r1", "carol", "personal", ["s1", "s2"]),
                impression("r2", "dave", "trending", ["b1"]),
                (b'{"request_id": "r3"}', "impressions")]
    records += [Event("c1", "click", "carol", ts=served + 1_000, item_id="s1",
                      category="shoes", request_id="r1").to_json(),
                Event("c2", "skip", "carol", ts=served + 2_000, item_id="s2",
                      category="shoes").to_json(),
                Event("d1", "add_to_cart", "dave", ts=served + 3_000, item_id="b1",
                      category="bags").to_json(),
                Event("d2", "click", "dave", ts=served + 4_000, item_id="zzz",
                      category="bags").to_json()]  # never shown: no reward
    out = run_pipeline(records, settings)
    shards = last_by_key(out["policy"], pb.PolicyParameters)
    total = PolicyStatistics.merged(PolicyStatistics.from_message(m) for m in shards.values())
    assert total.rewards == 3
    assert total.arms["personal"].rewards == 2 and total.arms["trending"].rewards == 1
    # r1 showed two items: each weighs half; the skip was at position 1 (1/log2(3) of it)
    click, skip = settings.reward_click, settings.reward_skip / math.log2(3)
    assert total.arms["personal"].reward_sum == pytest.approx((click + skip) / 2, abs=1e-3)
    assert total.arms["personal"].reward_square_sum == pytest.approx(
        (click ** 2 + skip ** 2) / 2, abs=1e-3)
    assert total.arms["trending"].reward_sum == pytest.approx(settings.reward_add_to_cart,
                                                              abs=1e-3)
    bias = total.features.index("bias")
    assert total.arms["personal"].xtx[bias, bias] == pytest.approx(1.0, abs=1e-3)
    [letter] = [json.loads(s) for s in out["dead_letters"]]
    assert letter["reason"].startswith("impression:") and letter["topic"] == "impressions"


def test_users_are_folded_into_the_item_factors_the_trainer_published(tmp_path):
    from online_models.als import ImplicitALS
    from reco.config import Settings

    settings = Settings(job_parallelism=2, restart_attempts=0, top_emit_interval_ms=0,
                        consent_default=ALLOW,
                        profile_min_interval_ms=0, checkpoint_dir=str(tmp_path / "ck"),
                        stack_dir=str(tmp_path / "flink"))
    users = [f"t{u}" for u in range(30) for _ in range(3)]
    items = [f"{'s' if u % 2 else 'x'}{k + 1}" for u in range(30) for k in range(3)]
    model = ImplicitALS(factors=3, iterations=6, seed=2).fit(users, items, [1.0] * len(users))
    chunks = model.item_model("v-test").to_chunks(chunk_items=2, trained_at_ms=1)
    broken = pb.ItemFactorsChunk(version="v-bad", chunk=0, chunks=1, dim=3, item_ids=["a"],
                                 factors=b"\x00")
    records: list[bytes | tuple[bytes, str]] = [
        (c.SerializeToString(), "item_factors") for c in chunks]
    records += [(broken.SerializeToString(), "item_factors"), PAUSE]
    shoppers = ShopperSimulation(SimConfig(n_users=10, n_items=50, seed=4, bot_share=0.0))
    records += [e.to_json() for e in crowd() + list(shoppers.events())]
    records += [e.to_json() for e in alice()]
    out = run_pipeline(records, settings)
    alice_list = last_by_key(out["recommendations"], pb.RecommendationList)["alice"]
    factorised = [i for i in alice_list.items if i.source == "factors"]
    assert factorised and all(i.reason == "factors:v-test" for i in factorised)
    assert {i.item_id for i in factorised} <= set(model.item_ids) - {"s1"}  # s1 was bought
    expected = model.recommend(model.fold_in({"s1": 1.0 + 5.0, "s2": 1.0}), 10, {"s1"})
    assert [i.item_id for i in factorised] == [item for item, _ in expected]
    [letter] = [json.loads(s) for s in out["dead_letters"]]
    assert letter["topic"] == "item_factors" and "float32" in letter["reason"]


def test_each_segment_gets_a_cold_start_list_of_what_its_users_like(run):
    lists = last_by_key(run["out"]["popular_lists"], pb.RecommendationList)
    segment_lists = {key: value for key, value in lists.items()
                     if key.startswith(SEGMENT_LIST_PREFIX)}
    assert segment_lists
    # every profile ever published names a segment; users move between them over time
    segments = {pb.UserProfile.FromString(value).segment for _, value in run["out"]["profiles"]}
    for key, value in segment_lists.items():
        segment = key.removeprefix(SEGMENT_LIST_PREFIX)
        assert segment in segments
        assert value.items and all(i.reason == f"popular:segment={segment}"
                                   for i in value.items)


def test_each_country_gets_a_home_page_list_of_what_its_users_buy(run):
    lists = last_by_key(run["out"]["popular_lists"], pb.RecommendationList)
    countries = {key.removeprefix(COUNTRY_LIST_PREFIX): value for key, value in lists.items()
                 if key.startswith(COUNTRY_LIST_PREFIX)}
    bought: dict[str, set[str]] = {}  # items saved, carted or bought, by the buyer's country
    for event, verdict in run["verdicts"]:
        if verdict is None and event.country and event.item_id \
                and event.event_type in ("purchase", "add_to_cart", "wishlist"):
            bought.setdefault(event.country.upper(), set()).add(event.item_id)
    assert countries and set(countries) <= set(bought)
    for code, value in countries.items():
        assert all(i.reason == f"popular:country={code}" for i in value.items)
        assert {i.item_id for i in value.items} <= bought[code]


def test_no_output_holds_a_raw_user_id(run):
    """Every user id leaves the job as its pseudonym (HMAC under the job's key): in the
    published records' user ids, the filtered events and the dead letters (the harness maps
    the keys back to the ids the test sent, for the other tests' reading). The tests' event
    ids embed user names; a shop's need not: only user id fields are checked."""
    ids = pseudonyms_of(run["settings"])
    users = {e.user_id for e, _ in run["verdicts"]} | {"alice", "pb-user"}
    messages: dict[str, Any] = {"profiles": pb.UserProfile,
                                "recommendations": pb.RecommendationList,
                                "consent": pb.ConsentState}
    for kind, message in messages.items():
        for user, raw in run["out"][kind]:
            if raw is not None:
                assert message.FromString(raw).user_id == ids.of(user), (kind, user)
    assert run["out"]["profiles"] and run["out"]["filtered"] and run["out"]["dead_letters"]
    texts = [value for _, value in run["out"]["filtered"]] + run["out"]["dead_letters"]
    named = [named_user(text) for text in texts]
    assert any(named) and not set(named) & users, set(named) & users


def named_user(text: str | bytes) -> str | None:
    """The user id a filtered event or a dead letter's record names, if any."""
    record = json.loads(text)
    if "event" in record:
        return record["event"].get("user_id")
    try:
        sent = json.loads(record.get("raw", ""))
    except ValueError:
        return None
    return sent.get("user_id") if isinstance(sent, dict) else None
