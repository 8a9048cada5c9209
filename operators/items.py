"""Per-item trending scores (keyed by item id). Keyed by item, so it scales with parallelism;
no single key sees every event.

Every score decays at the same rate, so an item's rank among others changes only when its own
score grows: the item reports its score to its category only when it grew by ``emit_ratio``
since the last report (hot items report a small fraction of their events)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.trending import add_decayed
from operators.state import value_state

UNKNOWN_CATEGORY = "_unknown"
RECENT_IDS = 16  # event ids remembered per item, to ignore redelivered duplicates


class ItemTrending(KeyedProcessFunction):
    """Input: (item_id, category, weight, ts, event_id). Output: (category, item_id, log2 score)."""

    def __init__(self, half_life_ms: int, ttl_ms: int, emit_ratio: float) -> None:
        self.half_life_ms = half_life_ms
        self.ttl_ms = ttl_ms
        self.emit_step = math.log2(emit_ratio) if emit_ratio > 1 else 0.0

    def open(self, runtime_context: RuntimeContext) -> None:
        self.item = runtime_context.get_state(value_state("item", self.ttl_ms))

    def process_element(self, signal: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        item_id, category, weight, ts, event_id = signal
        log_score, known_category, reported, recent = self.item.value() or (
            None, UNKNOWN_CATEGORY, None, ())
        if event_id in recent:
            return
        category = category or known_category
        log_score = add_decayed(log_score, weight, ts, self.half_life_ms)
        report = (reported is None or category != known_category
                  or log_score - reported >= self.emit_step)
        if report:
            reported = log_score
        self.item.update((log_score, category, reported, (event_id, *recent[:RECENT_IDS - 1])))
        if report:
            yield category, item_id, log_score
