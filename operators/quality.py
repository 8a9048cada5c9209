"""Consent and data quality before learning (keyed by user id). The consent gate comes first
(``UserStep.admit``, features/consent.py): an event of a user without consent to
personalization creates no per-user state and reaches no user operator; with consent to
analytics it still counts in the anonymous aggregates; a consent change is published on the
``consent`` topic, and a withdrawal clears the user's state here (taking her contributions back
out of the item counts) and sends the user operator a ``Forget``. Then the user step's first half
(``UserStep.check``: redelivered ids, bot and noise rules, features/quality.py) routes each
event: clean ones on to the user operator and their item signals to the per-item operator
(operators/items.py), filtered ones to events.filtered with the rule that fired and, counted,
to the user operator. Keyed by user, so a user's events keep their partition order. It is its
own operator because the item models it feeds publish the lists the user operator reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.consent import Consent, consent_record
from operators.guard import Count, dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, KEYED_PICKLED, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import ErasureRequest
from reco.events import Event
from reco.impressions import Impression
from reco.records import Forget
from userstep.step import Checked, UserStep

FILTERED = OutputTag("filtered", KEYED_BYTES)
ITEM_SIGNALS = OutputTag("item-signals", KEYED_PICKLED)  # keyed by item id
CONSENT = OutputTag("consent", KEYED_BYTES)  # user id -> ConsentState, for the consent topic


def filtered_record(event: Event, rule: str, flagged_until: int) -> bytes:
    return json.dumps({"rule": rule, "flagged_until_ms": flagged_until,
                       "filtered_at_ms": now_ms(),
                       "event": event.to_json_dict()}, separators=(",", ":")).encode()


class QualityFilter(KeyedProcessFunction):
    """Output: KEYED_PICKLED rows of the user id and (event, Checked) for every new event, and
    of impressions as they came (for the user operator's feedback join)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        # features/quality.py's QualityState: one state read and one write per event
        self.state = runtime_context.get_state(value_state("quality",
                                                           self.settings.user_state_ttl_ms))
        # the user's consent (features/consent.py): no TTL, a denial must outlive inactivity
        self.consent = runtime_context.get_state(value_state("consent"))
        self.unconsented = Count(runtime_context, "eventsWithoutConsent")
        self.step = UserStep(self.settings)
        self.failures = failure_counter(runtime_context)
        # events further behind the watermark than the allowed lateness: learned all the same
        # (docs/architecture.md: Time), and counted
        self.late = Count(runtime_context, "lateEvents")

    @dead_letter_on_error("quality")
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if isinstance(value, ErasureRequest):
            # forget her here (consent included: she is a stranger again) and downstream;
            # keep only when, so that nothing of hers from before comes back in a replay
            yield from self._take_back()
            self.consent.update(Consent(erased_before_ms=max(
                value.requested_at_ms, (self.consent.value() or Consent()).erased_before_ms)))
            yield CONSENT, Row(value.user_id, None)
            yield Row(value.user_id, Forget(value.user_id, "erasure", value))
            return
        consent: Consent | None = self.consent.value()
        if isinstance(value, Impression):
            # a lookup for a user without consent logs none; one in flight when she withdrew
            # must not start a feedback join
            if self.step.consent.admits_impression(consent, value.served_at_ms):
                yield Row(value.user_id, value)
            return
        event: Event = value
        if event.ts < ctx.timer_service().current_watermark() \
                - self.settings.allowed_lateness_ms:
            self.late.inc()
        verdict, after = self.step.admit(consent, event)
        if verdict.changed:
            self.consent.update(after)
            yield CONSENT, Row(event.user_id, consent_record(event.user_id, after))
        if verdict.withdrawn:
            yield from self._take_back()
            yield Row(event.user_id, Forget(event.user_id, "consent withdrawn"))
        if not verdict.personal:
            if verdict.analytics:
                for signal in self.step.anonymous_signals(event):
                    yield ITEM_SIGNALS, Row(signal.item_id, signal)
            else:
                self.unconsented.inc()
            return
        checked, state = self.step.check(self.state.value(), event, verdict.analytics)
        if checked.duplicate:
            return
        if state is not None:
            self.state.update(state)
        for signal in checked.item_signals if verdict.analytics else ():
            yield ITEM_SIGNALS, Row(signal.item_id, signal)
        if checked.rule is not None:
            yield FILTERED, Row(event.user_id, filtered_record(event, checked.rule,
                                                               checked.flagged_until))
        yield Row(event.user_id, (event, Checked(rule=checked.rule,
                                                 flagged_until=checked.flagged_until)))

    def _take_back(self) -> Iterator[Any]:
        """Her contributions to the item counts, taken back (her ledger: userstep/step.py's
        ``retractions``), and her state here dropped."""
        for signal in self.step.retractions(self.state.value()):
            yield ITEM_SIGNALS, Row(signal.item_id, signal)
        self.state.clear()
