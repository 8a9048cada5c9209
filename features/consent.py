"""The consent gate: what a user's consent lets the job do with an event.

A user's consent is kept per purpose (reco.events.PURPOSES): ``personalization`` (a profile, a
personal list, impressions, factors: any per-user state) and ``analytics`` (counting the
event in anonymous aggregates: popular and trending items, co-occurrence). Each purpose holds
the latest statement by event time, so a consent change that arrives late cannot undo a newer
one; a purpose never stated falls back to the configured default (``consent_default``: deny,
opt-in, unless a shop sets allow). An erasure leaves only the time it was asked for: what is
older than that never passes again.

>>> from reco.events import Event
>>> gate = ConsentGate(default_allow=False)
>>> said = Event("e1", "consent", "u1", ts=10, personalization=True, analytics=True)
>>> verdict, consent = gate.check(None, said)
>>> verdict.personal, verdict.withdrawn, consent.allows("analytics", False)
(False, False, True)
>>> view = Event("e2", "product_view", "u1", ts=20, item_id="i1")
>>> gate.check(consent, view)[0].personal
True
>>> verdict, consent = gate.check(consent, Event("e3", "click", "u1", ts=30, item_id="i1",
...                                               personalization=False))
>>> verdict.personal, verdict.analytics, verdict.withdrawn
(False, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reco.events import CONSENT_EVENT, PURPOSES, Event


@dataclass(frozen=True, slots=True)
class Consent:
    """A user's last word per purpose: (granted, event time), or None if never said."""

    personalization: tuple[bool, int] | None = None
    analytics: tuple[bool, int] | None = None
    # she was erased at this time: anything of hers from before it (a replay after a restore
    # from an older checkpoint, a late event) is dropped, so nothing brings her back
    erased_before_ms: int = 0

    def allows(self, purpose: str, default_allow: bool) -> bool:
        said = getattr(self, purpose)
        return default_allow if said is None else said[0]

    def updated_ms(self) -> int:
        return max((said[1] for said in (self.personalization, self.analytics) if said),
                   default=0)


@dataclass(frozen=True, slots=True)
class Verdict:
    personal: bool    # the event may reach per-user state (the profile, the list, rewards)
    analytics: bool   # the event may count in anonymous aggregates
    withdrawn: bool   # personalization was allowed before this event and is not now: forget
    changed: bool     # the consent state changed (publish it)


class ConsentGate:
    def __init__(self, default_allow: bool) -> None:
        self.default_allow = default_allow

    def admits_impression(self, consent: Consent | None, served_at_ms: int) -> bool:
        """Whether an impression served at ``served_at_ms`` may start a feedback join: she
        consents to personalization, and it is not from before her erasure."""
        known = consent or Consent()
        return known.allows("personalization", self.default_allow) \
            and served_at_ms >= known.erased_before_ms

    def check(self, consent: Consent | None, event: Event) -> tuple[Verdict, Consent]:
        """The verdict on ``event`` and the consent after it. A consent event itself is never
        behaviour: neither personal nor counted."""
        before = consent or Consent()
        if event.ts < before.erased_before_ms:
            return Verdict(personal=False, analytics=False, withdrawn=False,
                           changed=False), before
        latest = {purpose: _latest(getattr(before, purpose), getattr(event, purpose), event.ts)
                  for purpose in PURPOSES}
        after = replace(before, personalization=latest["personalization"],
                        analytics=latest["analytics"])
        personal = after.allows("personalization", self.default_allow)
        behaviour = event.event_type != CONSENT_EVENT
        return Verdict(personal=personal and behaviour,
                       analytics=after.allows("analytics", self.default_allow) and behaviour,
                       withdrawn=before.allows("personalization", self.default_allow)
                       and not personal,
                       changed=after != before), after


def _latest(said: tuple[bool, int] | None, value: bool | None, ts: int
            ) -> tuple[bool, int] | None:
    """A purpose's statement after an event's (the later one by event time)."""
    if value is None or (said is not None and ts < said[1]):
        return said
    return (value, ts)


def consent_record(user_id: str, consent: Consent) -> bytes:
    """The user's consent as the ``consent`` topic holds it (reco.v1.ConsentState)."""
    from reco.v1.recommendations_pb2 import ConsentState

    record = ConsentState(user_id=user_id, updated_at_ms=consent.updated_ms())
    for purpose in PURPOSES:
        said = getattr(consent, purpose)
        if said is not None:
            setattr(record, purpose, said[0])
    return record.SerializeToString()
