"""Per-item features (keyed by item id): trending score, popularity windows, velocity and
session co-occurrence (features/items.py). Keyed by item, so it scales with parallelism; no
single key sees every event.

Every trending score decays at the same rate, so an item's rank among others changes only when
its own score grows: the item reports its score to its category only when it grew by
``emit_ratio`` since the last report (hot items report a small fraction of their events), and
publishes its features then, or when its co-occurring items change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.items import ItemState, report_step
from operators.guard import dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, KEYED_PICKLED, value_state
from reco.clock import now_ms
from reco.keys import category_key, new_items_key

ITEM_FEATURES = OutputTag("item-features", KEYED_BYTES)
INTERACTION, NEIGHBOUR = "i", "n"
# the input signals, a side output of the step that decides an event is clean
ITEM_SIGNALS = OutputTag("item-signals", KEYED_PICKLED)


class ItemTrending(KeyedProcessFunction):
    """Input: (INTERACTION, item_id, category, weight, ts, event_id, previous item or None,
    price or None) or (NEIGHBOUR, item_id, next item_id, ts): each pair of consecutive items of
    a session is counted on both items. Output: (category_key(category), item_id, log2 score),
    and (new_items_key(category), item_id, first seen ms) once per item;
    side output ITEM_FEATURES: Row(item_id, ItemFeatures bytes)."""

    def __init__(self, half_life_ms: int, ttl_ms: int, emit_ratio: float,
                 cooccurring: int) -> None:
        self.half_life_ms = half_life_ms
        self.ttl_ms = ttl_ms
        self.step = report_step(emit_ratio)
        self.cooccurring = cooccurring

    def open(self, runtime_context: RuntimeContext) -> None:
        self.item = runtime_context.get_state(value_state("item-features", self.ttl_ms))
        self.failures = failure_counter(runtime_context)

    @dead_letter_on_error("item-features")
    def process_element(self, signal: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        state = self.item.value() or ItemState(self.half_life_ms, self.cooccurring)
        item_id = signal[1]
        if signal[0] == INTERACTION:
            _, _, category, weight, ts, event_id, previous, price = signal
            new = state.first_seen == 0
            if not state.add_interaction(weight, ts, event_id, category, price):
                return
            if new:  # content-based: listed by category before it earned a trending score
                yield new_items_key(state.category), item_id, float(ts)
            report = state.should_report(self.step)
            changed = (previous is not None and state.add_neighbour(previous)) or report
        else:
            _, _, other, ts = signal
            changed = state.add_neighbour(other)
            report = False
        self.item.update(state)
        if report:
            yield category_key(state.category), item_id, state.log_score
        if changed:
            message = state.to_proto(item_id, now_ms())
            yield ITEM_FEATURES, Row(item_id, message.SerializeToString())
