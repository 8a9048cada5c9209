"""Data quality before learning (keyed by user id): drops redelivered event ids (the user's last
``dedup_window`` ids, features/dedup.py), applies the bot
and noise rules, and routes each event: clean ones on to the models (and their item signal to
the trending counts), filtered ones to events.filtered with the rule that fired. Keyed by user,
so a user's events keep their partition order."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.bots import BotFilter, BotState
from features.configured import bot_rules
from features.dedup import RecentIds
from features.items import pair_with_previous
from features.trending import EVENT_WEIGHTS
from operators.items import INTERACTION, ITEM_SIGNALS, NEIGHBOUR
from operators.state import KEYED_BYTES, value_state
from reco.config import Settings
from reco.impressions import Impression

FILTERED = OutputTag("filtered", KEYED_BYTES)


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
        # (recent event ids, bot counters, (last ts, the session's latest item)) in one value:
        # one state read and one write per event
        self.quality = runtime_context.get_state(value_state("quality", s.user_state_ttl_ms))
        self.bots = BotFilter(bot_rules(s))

    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if isinstance(event, Impression):  # for the user operator's feedback join
            yield event, None, 0
            return
        recent, state, session = self.quality.value() or (
            RecentIds(self.settings.dedup_window), BotState(), (0, None))
        if recent.seen_or_add(event.event_id):
            return
        rule = self.bots.check(state, event)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        item_signal = rule is None and weight > 0 and event.item_id is not None
        previous = None
        if item_signal:
            previous, session = pair_with_previous(session, event.item_id, event.ts,
                                                   self.settings.session_gap_ms)
        self.quality.update((recent, state, session))
        if rule is not None:
            yield FILTERED, Row(event.user_id, filtered_record(event, rule, state.flagged_until))
            yield event, rule, state.flagged_until
            return
        yield event, None, 0
        if item_signal:
            yield ITEM_SIGNALS, (INTERACTION, event.item_id, event.category or "", weight,
                                 event.ts, event.event_id, previous, event.price)
            if previous is not None:
                yield ITEM_SIGNALS, (NEIGHBOUR, previous, event.item_id, event.ts)
