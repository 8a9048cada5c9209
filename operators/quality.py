"""Consent and data quality before learning: the first half of the user operator's work per
record (operators/users.py), with the state it keeps. Not an operator of its own since the
redesign of issue 30: every crossing from Python into Java costs (docs/benchmarks.md), and a
separate keyed step cost an output, a network hop and an input call per event.

The consent gate comes first (``UserStep.admit``, features/consent.py): an event of a user
without consent to personalization creates no per-user state and is not learned; with consent
to analytics it still counts in the anonymous aggregates; a consent change is published on the
``consent`` topic, and a withdrawal clears the user's state here (taking her contributions back
out of the item counts) and the user operator forgets her. Then the user step's first half
(``UserStep.check``: redelivered ids, bot and noise rules, features/quality.py) routes each
event: clean ones on to learning and their item signals to the per-item operator
(operators/items.py), filtered ones to events.filtered with the rule that fired and, counted,
to learning."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import RuntimeContext

from features.consent import Consent, consent_record
from features.quality import QualityState
from operators.guard import Count
from operators.state import KEYED_BYTES, KEYED_PICKLED, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import ErasureRequest
from reco.events import Event
from reco.impressions import Impression
from userstep.step import Checked, UserStep

FILTERED = OutputTag("filtered", KEYED_BYTES)
ITEM_SIGNALS = OutputTag("item-signals", KEYED_PICKLED)  # keyed by item id
CONSENT = OutputTag("consent", KEYED_BYTES)  # user id -> ConsentState, for the consent topic


def filtered_record(event: Event, rule: str, flagged_until: int) -> bytes:
    return json.dumps({"rule": rule, "flagged_until_ms": flagged_until,
                       "filtered_at_ms": now_ms(),
                       "event": event.to_json_dict()}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Gated:
    """What the gate let through: the verdict to learn with (None: nothing to learn, nothing
    to store), the user's quality state after it, and whether she withdrew her consent with
    this event (then she is forgotten, her quality state with the rest)."""

    checked: Checked | None
    quality: QualityState | None = None
    withdrawn: bool = False


class QualityGate:
    """The consent gate and the quality check. The consent is its own keyed state (no TTL: a
    denial must outlive inactivity); the quality state (features/quality.py) is stored with
    the user's state by the user operator, one read and one write per event. Methods yield
    the side outputs they cause."""

    def __init__(self, settings: Settings, step: UserStep,
                 runtime_context: RuntimeContext) -> None:
        self.settings = settings
        self.step = step
        self.consent = runtime_context.get_state(value_state("consent"))
        self.unconsented = Count(runtime_context, "eventsWithoutConsent")
        # events further behind the watermark than the allowed lateness: learned all the same
        # (docs/architecture.md: Time), and counted
        self.late = Count(runtime_context, "lateEvents")

    def erase(self, request: ErasureRequest, quality: QualityState | None) -> Iterator[Any]:
        """Takes her contributions back and forgets her consent (she is a stranger again),
        keeping only when, so that nothing of hers from before comes back in a replay; the
        caller drops her state."""
        yield from self.take_back(quality)
        self.consent.update(Consent(erased_before_ms=max(
            request.requested_at_ms, (self.consent.value() or Consent()).erased_before_ms)))
        yield CONSENT, Row(request.user_id, None)

    def admits(self, impression: Impression) -> bool:
        """A lookup for a user without consent logs none; one in flight when she withdrew
        must not start a feedback join."""
        return self.step.consent.admits_impression(self.consent.value(),
                                                   impression.served_at_ms)

    def check(self, quality: QualityState | None, event: Event, watermark: int
              ) -> Generator[Any, None, Gated]:
        if event.ts < watermark - self.settings.allowed_lateness_ms:
            self.late.inc()
        consent: Consent | None = self.consent.value()
        verdict, after = self.step.admit(consent, event)
        if verdict.changed:
            self.consent.update(after)
            yield CONSENT, Row(event.user_id, consent_record(event.user_id, after))
        if verdict.withdrawn:
            yield from self.take_back(quality)
        if not verdict.personal:
            if verdict.analytics:
                for signal in self.step.anonymous_signals(event):
                    yield ITEM_SIGNALS, Row(signal.item_id, signal)
            else:
                self.unconsented.inc()
            return Gated(None, withdrawn=verdict.withdrawn)
        checked, after_check = self.step.check(quality, event, verdict.analytics)
        if checked.duplicate:
            return Gated(None, withdrawn=verdict.withdrawn)
        for signal in checked.item_signals if verdict.analytics else ():
            yield ITEM_SIGNALS, Row(signal.item_id, signal)
        if checked.rule is not None:
            yield FILTERED, Row(event.user_id, filtered_record(event, checked.rule,
                                                               checked.flagged_until))
        return Gated(Checked(rule=checked.rule, flagged_until=checked.flagged_until),
                     after_check, verdict.withdrawn)

    def take_back(self, quality: QualityState | None) -> Iterator[Any]:
        """Her contributions to the item counts, taken back (her ledger: userstep/step.py's
        ``retractions``)."""
        for signal in self.step.retractions(quality):
            yield ITEM_SIGNALS, Row(signal.item_id, signal)
