"""Data quality before learning (keyed by user id): drops redelivered event ids, applies the bot
and noise rules, and routes each event: clean ones on to the models (and their item signal to
the trending counts), filtered ones to events.filtered with the rule that fired. Keyed by user,
so a user's events keep their partition order."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from features.bots import BotFilter, BotState
from features.configured import bot_rules
from features.trending import EVENT_WEIGHTS
from operators.state import KEYED_BYTES, value_state, with_ttl
from reco.config import Settings

FILTERED = OutputTag("filtered", KEYED_BYTES)
# (item_id, category or "", weight, ts, event_id)
ITEM_SIGNALS = OutputTag("item-signals", Types.PICKLED_BYTE_ARRAY())


def filtered_record(event: Any, rule: str, flagged_until: int) -> bytes:
    return json.dumps({"rule": rule, "flagged_until_ms": flagged_until,
                       "filtered_at_ms": int(time.time() * 1000),
                       "event": event.to_json_dict()}, separators=(",", ":")).encode()


class QualityFilter(KeyedProcessFunction):
    """Output: (event, rule or None, flagged_until_ms) for every new event: the user operator
    learns from clean ones and only counts the filtered ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        s = self.settings
        seen = MapStateDescriptor("seen-event-ids", Types.STRING(), Types.BOOLEAN())
        self.seen = runtime_context.get_map_state(with_ttl(seen, s.dedup_ttl_ms))
        self.bot_state = runtime_context.get_state(value_state("bots", s.user_state_ttl_ms))
        self.bots = BotFilter(bot_rules(s))

    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if self.seen.contains(event.event_id):
            return
        self.seen.put(event.event_id, True)
        state = self.bot_state.value() or BotState()
        rule = self.bots.check(state, event)
        self.bot_state.update(state)
        if rule is not None:
            yield FILTERED, Row(event.user_id, filtered_record(event, rule, state.flagged_until))
            yield event, rule, state.flagged_until
            return
        yield event, None, 0
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if weight > 0 and event.item_id is not None:
            yield ITEM_SIGNALS, (event.item_id, event.category or "", weight, event.ts,
                                 event.event_id)
