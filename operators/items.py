"""Per-item trending scores (keyed by item id): each interaction updates the item's decayed
score, and the new score goes on to the item's category. Keyed by item, so it scales with
parallelism; no single key sees every event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.trending import EVENT_WEIGHTS, add_decayed
from operators.state import value_state

UNKNOWN_CATEGORY = "_unknown"


class ItemTrending(KeyedProcessFunction):
    """Output: (category, item_id, log_score)."""

    def __init__(self, half_life_ms: int, ttl_ms: int) -> None:
        self.half_life_ms = half_life_ms
        self.ttl_ms = ttl_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        self.item = runtime_context.get_state(value_state("item", self.ttl_ms))

    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if weight <= 0:
            return
        log_score, category = self.item.value() or (None, UNKNOWN_CATEGORY)
        category = event.category or category
        log_score = add_decayed(log_score, weight, event.ts, self.half_life_ms)
        self.item.update((log_score, category))
        yield category, event.item_id, log_score
