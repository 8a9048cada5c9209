"""Top lists: trending items per category (keyed by category) and the global popular list
(merged from the category lists). Both publish a changed list at most once per interval, so the
global merge sees a few updates per second, not one per event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from features.trending import TopItems, apply_offer, learn_decayed, merge_report
from operators.guard import dead_letter_on_error, failure_counter
from operators.state import value_state
from reco.clock import now_ms
from reco.keys import POPULAR_LIST
from reco.records import Removed, SegmentSignal, TopOffer


class ThrottledTopList(KeyedProcessFunction):
    """Keeps a top list per key and emits (key, ranked list) when it changed, at most once per
    ``interval_ms`` of processing time; a timer flushes the last change."""

    def __init__(self, n: int, interval_ms: int) -> None:
        self.n = n
        self.interval_ms = interval_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        # (top list, when last emitted, a newer version waits): one read and one write
        self.state = runtime_context.get_state(value_state("top"))
        self.failures = failure_counter(runtime_context)

    def offer(self, top: TopItems, value: Any) -> TopItems | None:
        """The list after ``value``, or None when it did not change."""
        raise NotImplementedError

    def output_key(self, key: str) -> str:
        return key

    def notices(self, key: str, value: Any) -> Iterator[Any]:
        """What to emit for ``value`` beside the list (in order with its versions)."""
        return iter(())

    @dead_letter_on_error("top-list")
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        current, last, pending = self.state.value() or (TopItems(self.n), None, False)
        top = self.offer(current, value)
        yield from self.notices(ctx.get_current_key(), value)
        if top is None:
            return
        now = now_ms()
        if last is None or now - last >= self.interval_ms:
            last, pending = now, False
            yield self.output_key(ctx.get_current_key()), top.ranked()
        elif not pending:
            pending = True
            ctx.timer_service().register_processing_time_timer(last + self.interval_ms)
        self.state.update((top, last, pending))

    @dead_letter_on_error("top-list")
    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterator[Any]:
        current = self.state.value()
        if current is not None and current[2]:
            self.state.update((current[0], timestamp, False))
            yield self.output_key(ctx.get_current_key()), current[0].ranked()


class CategoryTop(ThrottledTopList):
    """Input: TopOffer(category_key(category), item_id, log_score), or
    TopOffer(new_items_key(category), item_id, first seen): the newest items of a category, or
    TopOffer(ranking_key(kind, category or None), item_id, log count): the most viewed and
    best-selling items; a lowered or removed score when an erasure took some back. Output:
    (key, ranked list), and (key, Removed(item)) when an erasure took all of an item's score
    (for the global list only: the other readers skip it)."""

    def offer(self, top: TopItems, value: TopOffer) -> TopItems | None:
        return top if apply_offer(top, value) else None

    def notices(self, key: str, value: TopOffer) -> Iterator[Any]:
        if value.removed:  # for the global list, which may hold the item still
            yield key, Removed(value.item_id)


class PopularMerge(ThrottledTopList):
    """Input: (category key, ranked list) or (category key, Removed(item)), all on one key.
    Output: (POPULAR_LIST, ranked list).
    Keeps the best ``n`` items by the latest score their category lists reported
    (``offer_ranked``): O(list) per update, whatever the number of categories."""

    def offer(self, top: TopItems, value: Any) -> TopItems | None:
        return top if merge_report(top, *value) else None

    def output_key(self, key: str) -> str:
        return POPULAR_LIST


class SegmentTop(ThrottledTopList):
    """Input: SegmentSignal, keyed by its list key (``segment:<id>`` or ``country:<code>``):
    the items users of a segment or a country wishlist, cart and buy, by decayed weight (an
    item that drops out of the top loses its score; an erased user's signals come back with
    ``retract`` and are taken out). Output: (list key, ranked list): a
    segment's cold-start list, a country's home-page list."""

    def __init__(self, n: int, interval_ms: int, half_life_ms: int) -> None:
        super().__init__(n, interval_ms)
        self.half_life_ms = half_life_ms

    def offer(self, top: TopItems, value: SegmentSignal) -> TopItems | None:
        changed = learn_decayed(top, value.item_id, value.weight, value.ts, self.half_life_ms,
                                value.retract)
        return top if changed else None

