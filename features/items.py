"""Item-side features, per item: the decayed trending score, weighted interactions over
windows (popularity) and their velocity, and the items most often seen with it in a session
(a bounded top-K kept with the space-saving rule, so counts are estimates with known error).

>>> state = ItemState(half_life_ms=3_600_000, cooccurring=2)
>>> for n, ts in enumerate([0, 60_000, 120_000]):
...     _ = state.add_interaction(2.0, ts, f"e{n}", "shoes")
>>> state.add_interaction(2.0, 120_000, "e2", "shoes")  # a redelivered event: ignored
False
>>> for other in ["b", "c", "b", "d"]:
...     _ = state.add_neighbour(other)
>>> state.neighbours.ranked(), state.window_counts(120_000)
([('b', 2.0), ('d', 2.0)], {'1h': 6.0, '24h': 6.0})
>>> _ = state.add_interaction(2.0, -86_400_000 * 60, "late", "shoes")  # 60 days late
>>> round(state.to_proto("s1", updated_at_ms=0).trending_score, 3)
5.931
"""

from __future__ import annotations

import math
from typing import NamedTuple

from features.slots import SlotState
from features.trending import TopItems
from features.windows import SlidingWindowSum
from reco.catalog import price_band
from reco.decay import add_decayed, subtract_decayed, value_at
from reco.keys import category_key, new_items_key, ranking_key
from reco.records import CatalogEntry, ItemSignal, TopOffer
from reco.v1 import recommendations_pb2 as pb

ITEM_WINDOWS = (("1h", 3_600_000, 600_000), ("24h", 86_400_000, 3_600_000))
RECENT_IDS = 16  # event ids remembered per item, to ignore redelivered duplicates
UNKNOWN_CATEGORY = "_unknown"
BOUGHT_WITH = 20  # items kept per item as carted or bought with it
RANKED_EVENTS = {"product_view": "views", "click": "views", "purchase": "purchases"}


class SpaceSavingTop(TopItems):
    """Top-K counts where a newcomer replaces the weakest and inherits its count + 1
    (Metwally et al.'s space-saving): heavy hitters are never missed."""

    def count(self, item: str) -> None:
        if item in self._scores or len(self._scores) < self.n:
            self._scores[item] = self._scores.get(item, 0.0) + 1.0
            return
        weakest = min(self._scores, key=self._scores.__getitem__)
        self._scores[item] = self._scores.pop(weakest) + 1.0

    def discount(self, item: str) -> bool:
        """Takes one count of ``item`` back (an erased user's); True when the kept items or
        their counts changed. An item pushed out since keeps nothing to take back."""
        count = self._scores.get(item)
        if count is None:
            return False
        if count <= 1.0:
            del self._scores[item]
        else:
            self._scores[item] = count - 1.0
        return True


class ItemState(SlotState):
    # the pickled layout (features/slots.py): new slots go last, never sorted in
    __slots__ = ("category", "first_seen", "half_life_ms", "log_score", "neighbours",  # noqa: RUF023
                 "price", "recent_ids", "reported", "windows", "bought_with", "rankings",
                 "catalogued")
    added_slots = {"bought_with": lambda: SpaceSavingTop(BOUGHT_WITH), "rankings": dict,
                   "catalogued": bool}

    def __init__(self, half_life_ms: int, cooccurring: int = 20) -> None:
        self.half_life_ms = half_life_ms
        self.log_score: float | None = None
        self.category = UNKNOWN_CATEGORY
        self.reported: float | None = None   # log score last reported to the category
        self.recent_ids: tuple[str, ...] = ()
        self.windows = [SlidingWindowSum(w, b) for _, w, b in ITEM_WINDOWS]
        self.neighbours = SpaceSavingTop(cooccurring)
        self.first_seen = 0
        self.price: float | None = None  # the last price an event carried
        self.bought_with = SpaceSavingTop(BOUGHT_WITH)  # carted or bought in one session
        # "views" / "purchases" -> (decayed log2 count, the value last reported to the rankings)
        self.rankings: dict[str, tuple[float, float | None]] = {}
        self.catalogued = False  # the catalog gave category and price: events do not change them

    def add_interaction(self, weight: float, ts: int, event_id: str, category: str,
                        price: float | None = None) -> bool:
        """Counts one interaction; False for a redelivered event id."""
        if event_id in self.recent_ids:
            return False
        self.recent_ids = (event_id, *self.recent_ids[:RECENT_IDS - 1])
        if not self.catalogued:
            self.category = category or self.category
            self.price = price if price is not None else self.price
        self.first_seen = min(self.first_seen or ts, ts)
        self.log_score = add_decayed(self.log_score, weight, ts, self.half_life_ms)
        for window in self.windows:
            window.add(0, weight, ts)
        return True

    def remove_interaction(self, weight: float, ts: int, event_type: str) -> None:
        """Takes back an interaction ``add_interaction`` counted (an erased user's): from the
        trending score, the windows (if it is still in them) and the views or purchases
        count. The item's first sight and category stay: they are the item's, not hers."""
        self.log_score = subtract_decayed(self.log_score, weight, ts, self.half_life_ms)
        self.reported = self.log_score
        for window in self.windows:
            window.add(0, -weight, ts)
        kind = RANKED_EVENTS.get(event_type)
        if kind in self.rankings:
            score = subtract_decayed(self.rankings[kind][0], 1.0, ts, self.half_life_ms)
            if score is None:
                del self.rankings[kind]
            else:
                self.rankings[kind] = (score, score)

    def add_neighbour(self, item: str) -> bool:
        """Counts a session co-occurrence; True when the kept neighbours changed."""
        before = self.neighbours.members()
        self.neighbours.count(item)
        return self.neighbours.members() != before

    def add_bought_with(self, item: str) -> bool:
        """Counts a basket co-occurrence; True when the kept items or their order changed
        (baskets are rare next to views: their counts are worth publishing as they move)."""
        before = [i for i, _ in self.bought_with.ranked()]
        self.bought_with.count(item)
        return [i for i, _ in self.bought_with.ranked()] != before

    def rank(self, kind: str, ts: int, step: float) -> float | None:
        """Counts one view or purchase; its decayed log2 count when it grew by ``step`` since
        last reported (the item's offer to the rankings), else None."""
        score, reported = self.rankings.get(kind, (None, None))
        score = add_decayed(score, 1.0, ts, self.half_life_ms)
        report = reported is None or score - reported >= step
        self.rankings[kind] = (score, score if report else reported)
        return score if report else None

    def should_report(self, step: float) -> bool:
        """True (and remembered) when the score grew by ``step`` (log2) since the last report,
        or was never reported."""
        if self.log_score is None:
            return False
        if self.reported is None or self.log_score - self.reported >= step:
            self.reported = self.log_score
            return True
        return False

    def window_counts(self, now_ms: int) -> dict[str, float]:
        counts = {}
        for (name, _, _), window in zip(ITEM_WINDOWS, self.windows, strict=True):
            window.advance(now_ms)
            counts[name] = float(window.total(0))
        return counts

    @property
    def latest_ms(self) -> int:
        """The item's own clock: its latest event time (late events do not move it back)."""
        return self.windows[0].latest_ms

    def to_proto(self, item_id: str, updated_at_ms: int) -> pb.ItemFeatures:
        """The item's features as of its own latest event time."""
        now_ms = self.latest_ms
        counts = self.window_counts(now_ms)
        day_rate = counts["24h"] / 24
        return pb.ItemFeatures(
            item_id=item_id, category=self.category,
            trending_score=value_at(self.log_score, now_ms, self.half_life_ms)
            if self.log_score is not None else 0.0,
            interactions=counts, velocity=counts["1h"] / day_rate if day_rate > 0 else 0.0,
            co_occurring=[pb.ItemAffinity(item_id=i, affinity=c)
                          for i, c in self.neighbours.ranked()],
            bought_with=[pb.ItemAffinity(item_id=i, affinity=c)
                         for i, c in self.bought_with.ranked()],
            updated_at_ms=updated_at_ms, first_seen_ms=self.first_seen,
            price_band=price_band(self.price))


def learn_catalog(state: ItemState, entry: CatalogEntry) -> tuple[list[TopOffer], bool]:
    """The catalog joined with the item's signals: its category and price become the
    catalog's (events no longer change them), and an item the catalog lists before any event
    joins its category's newest items at once (content-based, for cold items).

    >>> state = ItemState(half_life_ms=3_600_000)
    >>> offers, changed = learn_catalog(state, CatalogEntry("i1", "Boots", 70.0, 5))
    >>> [(o.key, o.item_id, o.score) for o in offers], state.category, changed
    ([('new/Boots', 'i1', 5.0)], 'Boots', True)
    >>> _ = learn_signal(state, ItemSignal("i1", "shoes", 1.0, 9, "e1", price=9.0), 0.0)
    >>> state.category, state.price
    ('Boots', 70.0)
    """
    before = (state.category, state.price)
    if entry.category:
        state.category = entry.category
    if entry.price is not None and entry.price > 0:
        state.price = entry.price
    state.catalogued = bool(entry.category) or state.catalogued
    offers = []
    if state.first_seen == 0 and entry.category:
        offers.append(TopOffer(new_items_key(state.category), entry.item_id,
                               float(entry.created_ms)))
    return offers, (state.category, state.price) != before


def learn_signal(state: ItemState, signal: ItemSignal | CatalogEntry, step: float
                 ) -> tuple[list[TopOffer], bool]:
    """The per-item operator's step: learns one signal; returns the offers to the top lists
    (the item's new score to its category's list when it grew by ``step`` (log2) since the
    last report, the item to its category's newest items when first seen, and a view's or a
    purchase's decayed count to the category's and the overall ranking of its kind, on the
    same rule) and whether the item's published features changed (False for a redelivered
    event).

    >>> state = ItemState(half_life_ms=3_600_000)
    >>> offers, changed = learn_signal(state, ItemSignal("i1", "shoes", 1.0, 0, "e1"), 0.0)
    >>> [(o.key, o.item_id) for o in offers], changed
    ([('new/shoes', 'i1'), ('category/shoes', 'i1')], True)
    """
    if isinstance(signal, CatalogEntry):
        return learn_catalog(state, signal)
    if signal.retract:
        return retract_signal(state, signal)
    if signal.neighbour is not None:
        return [], state.add_neighbour(signal.neighbour)
    if signal.bought_with is not None:
        return [], state.add_bought_with(signal.bought_with)
    new = state.first_seen == 0
    if not state.add_interaction(signal.weight, signal.ts, signal.event_id, signal.category,
                                 signal.price):
        return [], False
    offers = []
    if new:  # content-based: listed by category before it earned a trending score
        offers.append(TopOffer(new_items_key(state.category), signal.item_id,
                               float(signal.ts)))
    report = state.should_report(step)
    if report and state.log_score is not None:
        offers.append(TopOffer(category_key(state.category), signal.item_id, state.log_score))
    kind = RANKED_EVENTS.get(signal.event_type)
    ranked = state.rank(kind, signal.ts, step) if kind is not None else None
    if kind is not None and ranked is not None:
        offers += [TopOffer(ranking_key(kind, state.category), signal.item_id, ranked),
                   TopOffer(ranking_key(kind, None), signal.item_id, ranked)]
    changed = (signal.previous is not None and state.add_neighbour(signal.previous)) or report
    return offers, changed


def retract_signal(state: ItemState, signal: ItemSignal) -> tuple[list[TopOffer], bool]:
    """Takes back what ``learn_signal`` counted for ``signal`` (an erased user's, from her
    ledger: features/contributions.py); returns the item's lowered scores for its lists
    (``removed`` when nothing is left) and whether its features changed.

    >>> state = ItemState(half_life_ms=3_600_000)
    >>> hers = ItemSignal("i1", "shoes", 1.0, 0, "e1", previous="i0", event_type="click")
    >>> _ = learn_signal(state, hers, 0.0)
    >>> offers, changed = retract_signal(state, hers)
    >>> [(o.key, o.removed) for o in offers], state.neighbours.ranked(), changed
    ([('category/shoes', True), ('views/shoes', True), ('views', True)], [], True)
    """
    if signal.neighbour is not None:
        return [], state.neighbours.discount(signal.neighbour)
    if signal.bought_with is not None:
        return [], state.bought_with.discount(signal.bought_with)
    kind = RANKED_EVENTS.get(signal.event_type)
    ranked = kind in state.rankings
    state.remove_interaction(signal.weight, signal.ts, signal.event_type)
    if signal.previous is not None:
        state.neighbours.discount(signal.previous)
    item = signal.item_id
    offers = [_lowered(category_key(state.category), item, state.log_score)]
    if kind is not None and ranked:
        score = state.rankings[kind][0] if kind in state.rankings else None
        offers += [_lowered(ranking_key(kind, state.category), item, score),
                   _lowered(ranking_key(kind, None), item, score)]
    return offers, True


def _lowered(key: str, item: str, score: float | None) -> TopOffer:
    return TopOffer(key, item, 0.0, removed=True) if score is None else TopOffer(key, item, score)


def report_step(emit_ratio: float) -> float:
    return math.log2(emit_ratio) if emit_ratio > 1 else 0.0


# (last interaction ts, the session's latest item, the items carted or bought in it); states
# stored before baskets were kept have no third value
Session = tuple[int, str | None] | tuple[int, str | None, tuple[str, ...]]
MAX_BASKET = 10  # the session's carted items an added one is paired with


class Paired(NamedTuple):
    previous: str | None            # the session's previous item (view co-occurrence)
    basket: tuple[str, ...]         # items carted or bought before in the session
    session: Session                # the session after this interaction


def pair_in_session(session: Session, item: str, ts: int, gap_ms: int,
                    to_basket: bool = False) -> Paired:
    """What ``item`` pairs with in its session: the previous item (None when the session ended
    or it is the same item) and, when it goes into the basket (``to_basket``: carted or
    bought), the items carted or bought before it in the session (once per item).

    >>> pair_in_session((1_000, "a"), "b", 2_000, gap_ms=60_000)
    Paired(previous='a', basket=(), session=(2000, 'b', ()))
    >>> pair_in_session((1_000, "a", ("x",)), "b", 2_000, gap_ms=60_000, to_basket=True).basket
    ('x',)
    >>> pair_in_session((1_000, "a", ("x",)), "b", 100_000, gap_ms=60_000, to_basket=True)
    Paired(previous=None, basket=(), session=(100000, 'b', ('b',)))
    """
    last_ts, previous, *rest = session
    basket: tuple[str, ...] = rest[0] if rest else ()
    ended = ts - last_ts > gap_ms
    if ended:
        basket = ()
    partners: tuple[str, ...] = ()
    if to_basket and item not in basket:
        partners, basket = basket, (*basket, item)[-MAX_BASKET:]
    return Paired(None if ended or previous == item else previous, partners,
                  (max(last_ts, ts), item, basket))
