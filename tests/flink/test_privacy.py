"""The consent gate and erasure in the pipeline on a Flink MiniCluster: what leaves the job
for users who grant, deny or withdraw consent, and for a user who asks to be erased."""

from __future__ import annotations

import json

import pytest

from reco.events import Event
from reco.v1 import recommendations_pb2 as pb
from tests.flink.harness import PAUSE, T0, ev, last_by_key, pseudonyms_of, run_pipeline

pytestmark = pytest.mark.flink


def test_the_consent_gate_keeps_nothing_without_consent_and_forgets_on_withdrawal(tmp_path):
    """Opt-in (the default): carol grants and later withdraws personalization, dave says
    nothing, erin allows analytics only. Only what consent allows leaves the job, and carol's
    withdrawal leaves tombstones for her list and profile."""
    from reco.config import Settings

    def said(n: int, user: str, personalization: bool | None = None,
             analytics: bool | None = None) -> Event:
        return Event(f"{user}-c{n}", "consent", user, ts=T0 + n * 1000,
                     personalization=personalization, analytics=analytics)

    records: list[Event | bytes] = [said(0, "carol", personalization=True, analytics=True),
               ev(1, "carol", "product_view", "c1", "shoes"),
               ev(2, "carol", "purchase", "c2", "shoes", price=20.0),
               ev(3, "dave", "purchase", "d1", "toys", price=5.0),
               said(4, "erin", personalization=False, analytics=True),
               ev(5, "erin", "purchase", "e1", "toys", price=5.0),
               PAUSE,
               said(6, "carol", personalization=False),
               ev(7, "carol", "product_view", "c3", "shoes"),
               ev(8, "dave", "product_view", "d1", "toys", personalization=True)]
    settings = Settings(restart_attempts=0, top_emit_interval_ms=0, trending_emit_ratio=1.0,
                        profile_min_interval_ms=0, consent_default="deny",
                        checkpoint_dir=str(tmp_path / "ck"), stack_dir=str(tmp_path / "f"))
    out = run_pipeline([r.to_json() if isinstance(r, Event) else r for r in records],
                       settings)
    profiles = dict(out["profiles"])  # the last value per key
    assert "carol" in profiles and profiles["carol"] is None  # published, then tombstoned
    assert dict(out["recommendations"]).get("carol", b"") is None
    assert "erin" not in profiles  # analytics only: no per-user state
    assert pb.UserProfile.FromString(profiles["dave"]).event_count == 1  # from his consent on
    consent = {key: pb.ConsentState.FromString(v) for key, v in out["consent"]}
    assert consent["carol"].HasField("personalization") and not consent["carol"].personalization
    assert consent["erin"].analytics and "dave" in consent
    counted = {key for key, _ in out["item_features"]}
    # carol's items, also after she withdrew (her consent to analytics stands), and erin's
    assert {"c1", "c2", "c3", "e1"} <= counted
    assert not {"d1"} & counted  # dave allowed personalization only, never analytics


def test_an_erasure_request_forgets_the_user_in_every_output_and_reports_it(tmp_path):
    from reco.config import Settings
    from reco.erasure import erasure_request, parse_done

    settings = Settings(restart_attempts=0, top_emit_interval_ms=0, profile_min_interval_ms=0,
                        consent_default="deny", checkpoint_dir=str(tmp_path / "ck"),
                        stack_dir=str(tmp_path / "f"))
    ids = pseudonyms_of(settings)
    records: list[bytes | tuple[bytes, str]] = [
        Event("fay-c", "consent", "fay", ts=T0, personalization=True, analytics=True).to_json(),
        ev(1, "fay", "product_view", "f1", "hats").to_json(),
        ev(2, "gus", "product_view", "f1", "hats").to_json(),
        PAUSE,
        # requests name pseudonyms, as `reco erase` and the Admin service send them
        (erasure_request(ids.of("fay"), "req-1", T0 + 5_000), "erasure"),
        (erasure_request(ids.of("nobody"), "req-2", T0 + 5_000), "erasure"),  # a no-op
        (b'{"user_id": 7}', "erasure"),
        # her events from before the request again (a replay after a restore, a late one):
        # they must not bring her back
        Event("fay-c", "consent", "fay", ts=T0, personalization=True).to_json(),
        ev(3, "fay", "product_view", "f2", "hats").to_json()]
    out = run_pipeline(records, settings)
    for kind in ("profiles", "recommendations", "consent"):
        latest = dict(out[kind])
        assert "fay" in latest and latest["fay"] is None, kind  # written, then tombstoned
    done = [parse_done(value) for _, value in out["erasures_done"]]
    assert {(d.user_id, d.request_id, d.store) for d in done} == {
        (ids.of("fay"), "req-1", "job"), (ids.of("nobody"), "req-2", "job")}
    [letter] = [json.loads(s) for s in out["dead_letters"]]
    assert letter["topic"] == "erasure" and "user_id must be a string" in letter["reason"]


def test_an_erasure_takes_her_contributions_back_out_of_the_shared_counts(tmp_path):
    """Fay views f1 then f3 and buys f3 in Germany; gus views f1. Once she is erased, f3 has
    no count, f1 has gus's view and no co-occurrence with f3, and neither her category's,
    her country's nor the global list holds f3 (userstep/step.py: retractions and forget)."""
    from reco.config import Settings
    from reco.erasure import erasure_request
    from reco.keys import GLOBAL_LIST, category_key, country_list_key

    settings = Settings(restart_attempts=0, top_emit_interval_ms=0, profile_min_interval_ms=0,
                        trending_emit_ratio=1.0, consent_default="deny",
                        checkpoint_dir=str(tmp_path / "ck"), stack_dir=str(tmp_path / "f"))
    ids = pseudonyms_of(settings)
    yes = {"personalization": True, "analytics": True}
    records: list[bytes | tuple[bytes, str]] = [
        ev(1, "fay", "product_view", "f1", "hats", country="DE", **yes).to_json(),
        ev(2, "fay", "product_view", "f3", "hats", country="DE", **yes).to_json(),
        ev(3, "fay", "purchase", "f3", "hats", country="DE", price=20.0, **yes).to_json(),
        ev(4, "gus", "product_view", "f1", "hats", **yes).to_json(),
        PAUSE,
        (erasure_request(ids.of("fay"), "req-1", T0 + 9_000), "erasure")]
    out = run_pipeline(records, settings)
    before = {key: value for key, value in out["item_features"][:4]}
    features = last_by_key(out["item_features"], pb.ItemFeatures)
    assert pb.ItemFeatures.FromString(before["f3"]).interactions["1h"] > 0  # she counted
    assert features["f3"].trending_score == 0 and not any(features["f3"].interactions.values())
    assert features["f1"].interactions["1h"] == 1.0  # gus's view
    assert [a.item_id for a in features["f1"].co_occurring] == []
    lists = last_by_key(out["popular_lists"], pb.RecommendationList)
    assert [i.item_id for i in lists[category_key("hats")].items] == ["f1"]
    assert "f3" not in [i.item_id for i in lists[country_list_key("DE")].items]
    # the global list, merged from the category lists, had it and lets it go too
    globals_ = [pb.RecommendationList.FromString(v) for k, v in out["popular_lists"]
                if k == GLOBAL_LIST]
    assert any("f3" in [i.item_id for i in g.items] for g in globals_)
    assert [i.item_id for i in globals_[-1].items] == ["f1"]
