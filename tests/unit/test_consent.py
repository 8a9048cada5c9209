"""The consent gate's pure logic (features/consent.py) under late, duplicated and reordered
consent changes, and the event contract for consent (reco/events.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.consent import Consent, ConsentGate
from reco.events import Event, InvalidEvent, event_from_dict

statements = st.lists(st.tuples(st.sampled_from(["personalization", "analytics"]),
                                st.booleans(), st.integers(0, 10**6)),
                      min_size=1, max_size=12, unique_by=lambda s: (s[0], s[2]))


def replay(gate: ConsentGate, said: list[tuple[str, bool, int]]) -> Consent:
    consent = None
    for n, (purpose, value, ts) in enumerate(said):
        event = Event(f"c{n}", "consent", "u", ts=ts,
                      personalization=value if purpose == "personalization" else None,
                      analytics=value if purpose == "analytics" else None)
        _, consent = gate.check(consent, event)
    assert consent is not None
    return consent


@settings(max_examples=300, deadline=None)
@given(statements, st.randoms(use_true_random=False), st.booleans())
def test_each_purpose_holds_its_latest_statement_in_any_arrival_order(said, rng, default):
    gate = ConsentGate(default_allow=default)
    shuffled = list(said)
    rng.shuffle(shuffled)
    final = replay(gate, shuffled)
    assert final == replay(gate, sorted(said, key=lambda s: s[2]))
    for purpose in ("personalization", "analytics"):
        mine = [s for s in said if s[0] == purpose]
        expected = max(mine, key=lambda s: s[2])[1] if mine else default
        assert final.allows(purpose, default) == expected


@settings(max_examples=300, deadline=None)
@given(statements, st.booleans(), st.sampled_from(["product_view", "purchase", "consent"]))
def test_behaviour_reaches_the_user_only_with_consent_and_withdrawal_forgets(said, default,
                                                                              kind):
    gate = ConsentGate(default_allow=default)
    before = replay(gate, said)
    event = Event("e", kind, "u", ts=2 * 10**6, item_id="i", personalization=False)
    verdict, after = gate.check(before, event)
    assert not verdict.personal  # denied by the event itself
    assert verdict.withdrawn == before.allows("personalization", default)
    assert verdict.analytics == (after.allows("analytics", default) and kind != "consent")
    again, _ = gate.check(after, event)  # a redelivered withdrawal: nothing left to forget
    assert not again.withdrawn and not again.changed


def test_an_unset_purpose_follows_the_default_and_nothing_passes_by_default():
    view = Event("e", "product_view", "u", ts=1, item_id="i")
    deny, _ = ConsentGate(default_allow=False).check(None, view)
    allow, _ = ConsentGate(default_allow=True).check(None, view)
    assert (deny.personal, deny.analytics) == (False, False)
    assert (allow.personal, allow.analytics) == (True, True)


@pytest.mark.parametrize(("consent", "reason"), [
    ({"marketing": True}, "unknown purpose 'marketing'"),
    ({"analytics": "yes"}, "consent.analytics must be true or false"),
    (None, "a consent event needs consent"),
])
def test_bad_consent_is_refused_with_a_reason(consent, reason):
    doc = {"event_id": "e", "event_type": "consent", "user_id": "u", "ts": 1_795_680_000_000}
    if consent is not None:
        doc["consent"] = consent
    with pytest.raises(InvalidEvent, match=reason):
        event_from_dict(doc)


def test_consent_round_trips_through_json_and_protobuf():
    from reco.events import parse_event
    from reco.v1 import events_pb2

    event = Event("e", "consent", "u", ts=1_795_680_000_000, personalization=False,
                  analytics=True)
    assert parse_event(event.to_json()) == event
    message = events_pb2.Event(event_id="e", event_type="consent", user_id="u",
                               ts=1_795_680_000_000,
                               consent=events_pb2.Consent(personalization=False, analytics=True))
    assert parse_event(message.SerializeToString()) == event


def test_after_an_erasure_nothing_older_passes_and_newer_consent_counts_again():
    gate = ConsentGate(default_allow=True)
    erased = Consent(erased_before_ms=1_000)
    late = Event("e1", "purchase", "u", ts=999, item_id="i", personalization=True)
    verdict, after = gate.check(erased, late)
    assert (verdict.personal, verdict.analytics, verdict.changed) == (False, False, False)
    assert after == erased
    fresh = Event("e2", "product_view", "u", ts=1_000, item_id="i")
    assert gate.check(erased, fresh)[0].personal  # she came back: the default applies again


def test_the_factor_trainer_learns_only_what_consent_allows_and_nothing_erased():
    from jobs.train_factors import clean
    from reco.config import Settings

    def view(user: str, ts: int, **consent: bool) -> Event:
        return Event(f"{user}-{ts}", "product_view", user, ts=ts, item_id="i",
                     personalization=consent.get("personalization"))

    events = [view("yes", 1, personalization=True), view("yes", 2),
              view("never", 1),
              view("gone", 1, personalization=True), view("gone", 2),
              Event("gone-3", "consent", "gone", ts=3, personalization=False),
              view("erased", 1, personalization=True), view("erased", 9, personalization=True)]
    kept = clean(events, Settings(), erased={"erased": 5})
    assert [(e.user_id, e.ts) for e in kept] == [("yes", 1), ("yes", 2), ("erased", 9)]


def test_an_impression_starts_a_join_only_with_consent_and_after_any_erasure():
    gate = ConsentGate(default_allow=False)
    granted = Consent(personalization=(True, 5))
    assert gate.admits_impression(granted, 10) and not gate.admits_impression(None, 10)
    erased = Consent(personalization=(True, 5), erased_before_ms=20)
    assert not gate.admits_impression(erased, 19) and gate.admits_impression(erased, 20)
