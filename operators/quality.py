"""Data quality before learning (keyed by user id): the user step's first half
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

from operators.guard import Count, dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, KEYED_PICKLED, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.events import Event
from reco.impressions import Impression
from userstep.step import Checked, UserStep

FILTERED = OutputTag("filtered", KEYED_BYTES)
ITEM_SIGNALS = OutputTag("item-signals", KEYED_PICKLED)  # keyed by item id


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
        self.step = UserStep(self.settings)
        self.failures = failure_counter(runtime_context)
        # events further behind the watermark than the allowed lateness: learned all the same
        # (docs/architecture.md: Time), and counted
        self.late = Count(runtime_context, "lateEvents")

    @dead_letter_on_error("quality")
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if isinstance(value, Impression):
            yield Row(value.user_id, value)
            return
        event: Event = value
        if event.ts < ctx.timer_service().current_watermark() \
                - self.settings.allowed_lateness_ms:
            self.late.inc()
        checked, state = self.step.check(self.state.value(), event)
        if checked.duplicate:
            return
        if state is not None:
            self.state.update(state)
        for signal in checked.item_signals:
            yield ITEM_SIGNALS, Row(signal.item_id, signal)
        if checked.rule is not None:
            yield FILTERED, Row(event.user_id, filtered_record(event, checked.rule,
                                                               checked.flagged_until))
        yield Row(event.user_id, (event, Checked(rule=checked.rule,
                                                 flagged_until=checked.flagged_until)))
