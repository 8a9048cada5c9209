"""Data quality before learning (keyed by user id): the quality step (features/quality.py) routes
each event: clean ones on to the models (and their item signals to the per-item operator,
operators/items.py), filtered ones to events.filtered with the rule that fired. Keyed by user,
so a user's events keep their partition order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.configured import quality_gate
from features.quality import Verdict
from features.trending import EVENT_WEIGHTS
from operators.guard import dead_letter_on_error, failure_counter
from operators.items import INTERACTION, ITEM_SIGNALS, NEIGHBOUR
from operators.state import KEYED_BYTES, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.impressions import Impression

FILTERED = OutputTag("filtered", KEYED_BYTES)


def filtered_record(event: Any, rule: str, flagged_until: int) -> bytes:
    return json.dumps({"rule": rule, "flagged_until_ms": flagged_until,
                       "filtered_at_ms": now_ms(),
                       "event": event.to_json_dict()}, separators=(",", ":")).encode()


def quality_outputs(event: Any, verdict: Verdict) -> Iterator[Any]:
    if verdict.rule is not None:
        yield FILTERED, Row(event.user_id, filtered_record(event, verdict.rule,
                                                           verdict.flagged_until))
    elif verdict.item_signal:
        yield ITEM_SIGNALS, Row(event.item_id, (
            INTERACTION, event.item_id, event.category or "", EVENT_WEIGHTS[event.event_type],
            event.ts, event.event_id, verdict.previous, event.price))
        if verdict.previous is not None:
            yield ITEM_SIGNALS, Row(verdict.previous, (NEIGHBOUR, verdict.previous,
                                                       event.item_id, event.ts))


class QualityFilter(KeyedProcessFunction):
    """Output: KEYED_PICKLED rows of the user id and (event, rule or None, flagged_until_ms),
    for every new event: the user operator learns from clean ones and only counts the filtered
    ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        # features/quality.py's QualityState: one state read and one write per event
        self.state = runtime_context.get_state(value_state("quality",
                                                           self.settings.user_state_ttl_ms))
        self.gate = quality_gate(self.settings)
        self.failures = failure_counter(runtime_context)
        # events further behind the watermark than the allowed lateness: learned all the same
        # (docs/architecture.md: Time), and counted (the keyed timer service is the one that
        # knows the watermark in thread mode)
        self.late = 0
        try:
            self.late_metric = runtime_context.get_metrics_group().counter("lateEvents")
        except Exception:
            self.late_metric = None

    @dead_letter_on_error("quality")
    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if isinstance(event, Impression):  # for the user operator's feedback join
            yield Row(event.user_id, (event, None, 0))
            return
        if event.ts < ctx.timer_service().current_watermark() \
                - self.settings.allowed_lateness_ms:
            self.late += 1
            if self.late_metric is not None:
                self.late_metric.inc()
        verdict, state = self.gate.check(self.state.value() or self.gate.new(), event)
        if verdict is None:
            return  # redelivered
        self.state.update(state)
        yield Row(event.user_id, (event, verdict.rule, verdict.flagged_until))
        yield from quality_outputs(event, verdict)
