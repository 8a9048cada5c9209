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

from features.items import ItemState, learn_signal, report_step
from operators.guard import dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, value_state
from reco.clock import now_ms
from reco.records import CatalogEntry, ItemSignal

ITEM_FEATURES = OutputTag("item-features", KEYED_BYTES)


class ItemTrending(KeyedProcessFunction):
    """Input: reco.records.ItemSignal, an interaction or a neighbour (each pair of consecutive
    items of a session is counted on both items), or reco.records.CatalogEntry, the catalog
    joined with the signals (features/items.py: learn_catalog). Output: the offers of
    features/items.py's learn_signal (a category's trending and newest items, the views and
    purchases rankings); side output ITEM_FEATURES: Row(item_id, ItemFeatures bytes)."""

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
    def process_element(self, signal: ItemSignal | CatalogEntry,
                        ctx: KeyedProcessFunction.Context
                        ) -> Iterator[Any]:
        state = self.item.value() or ItemState(self.half_life_ms, self.cooccurring)
        offers, changed = learn_signal(state, signal, self.step)
        self.item.update(state)
        yield from offers
        if changed:
            message = state.to_proto(signal.item_id, now_ms())
            yield ITEM_FEATURES, Row(signal.item_id, message.SerializeToString())
