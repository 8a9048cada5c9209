"""Per-user state kept by the job (RocksDB keyed state): counts, recent and purchased items,
sliding windows, sessions, dwell and scroll statistics with imputation, RFM, item affinity,
category preferences and the last context. Pure logic; the operator stores it.

>>> from reco.events import EVENT_TYPES, Event
>>> from features.population import Population
>>> config, population = ProfileConfig(), Population()
>>> p = UserProfileState(config)
>>> for i, (kind, item) in enumerate([("product_view", "a"), ("purchase", "b"),
...                                   ("product_view", "a")]):
...     p.update(Event(f"e{i}", kind, "u1", ts=1_000 * i, item_id=item, category="shoes",
...                    price=10.0), population, config)
>>> p.recent_items, p.purchased, p.category_weights(), p.rfm.purchases
(['a', 'b'], ['b'], {'shoes': 1.0}, 1)
>>> p.last_dwell_imputed  # the views carried no dwell time
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from features.affinity import CategoryPreferences, ItemAffinity
from features.context import parse_agent
from features.population import Population
from features.rfm import Rfm
from features.sessions import SessionTracker
from features.slots import SlotState
from features.stats import RunningStats
from features.windows import SlidingWindowSum
from reco.decay import EVENT_WEIGHTS
from reco.events import EVENT_TYPES, Event

MINUTE = 60_000

_CONTEXT_FIELDS = ("device", "country", "region", "timezone")
# Window keys: event types by code, three numeric sums, and categories by name.
TYPE_CODES = {name: code for code, name in enumerate(sorted(EVENT_TYPES))}
TYPE_NAMES = {code: name for name, code in TYPE_CODES.items()}
DWELL_KEY, SCROLL_KEY, SCROLL_N_KEY = 100, 101, 102
_UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration(text: str) -> int:
    """'10m' -> 600000; units s, m, h, d."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit():
        raise ValueError(f"duration {text!r}: expected a number and one of s, m, h, d")
    return int(text[:-1]) * _UNITS[text[-1]]


@functools.lru_cache(maxsize=16)
def parse_windows(spec: str) -> tuple[tuple[str, int, int], ...]:
    """'1h:10m,24h:4h' -> (('1h', 3600000, 600000), ('24h', 86400000, 14400000))."""
    windows = []
    for part in spec.split(","):
        name, _, bucket = part.partition(":")
        windows.append((name.strip(), parse_duration(name), parse_duration(bucket or name)))
    return tuple(windows)


@dataclass(frozen=True)
class ProfileConfig:
    windows: str = "1h:15m,24h:6h,7d:1d"
    recent_n: int = 20
    purchased_n: int = 50
    session_gap_ms: int = 1_800_000
    preference_half_life_ms: int = 7 * 86_400_000
    max_categories: int = 12
    affinity_items: int = 20
    prior_weight: float = 5.0


class UserProfileState(SlotState):
    """Pickled as a tuple of slot values (features/slots.py): no slot names in every user's
    state."""

    # the pickled layout (features/slots.py): new slots go last, never sorted in
    __slots__ = ("affinity", "cart", "context", "dwell", "event_count", "filtered",  # noqa: RUF023
                 "first_seen", "flag_rule", "flagged_until", "last_dwell", "last_dwell_imputed",
                 "last_event_id", "last_scroll", "last_scroll_imputed", "last_seen",
                 "last_session_ms", "preferences", "profile_pending", "profile_sent_ms",
                 "published", "purchased", "recent_items", "rfm", "scroll", "segment",
                 "session_length", "sessions", "type_counts", "windows", "recent_seen")
    added_slots = {"recent_seen": list}

    def __init__(self, config: ProfileConfig) -> None:
        self.event_count = 0
        self.type_counts: dict[int, int] = {}  # by TYPE_CODES
        self.recent_items: list[str] = []
        # minutes from each recent item's last interaction to last_seen's minute (-1: unknown):
        # small integers, which pickle in a byte or two (see recent_times)
        self.recent_seen: list[int] = []
        self.purchased: list[str] = []
        self.cart: list[str] = []  # added and not yet bought or removed
        self.windows = [SlidingWindowSum(w, b) for _, w, b in parse_windows(config.windows)]
        self.sessions = SessionTracker()
        self.dwell = RunningStats()           # log1p(dwell ms) of product views
        self.scroll = RunningStats()
        self.session_length = RunningStats()  # log1p(ms) of closed sessions
        self.last_session_ms = -1
        self.last_dwell = 0.0
        self.last_dwell_imputed = False
        self.last_scroll = 0.0
        self.last_scroll_imputed = False
        self.rfm = Rfm()
        self.affinity = ItemAffinity(config.affinity_items)
        self.preferences = CategoryPreferences(config.preference_half_life_ms)
        self.context: dict[str, str] = {}
        self.first_seen = self.last_seen = 0
        self.last_event_id = ""
        self.filtered = 0
        self.flag_rule = ""
        self.flagged_until = 0
        self.published = 0  # crc32 of the item ids last published
        self.profile_sent_ms = 0  # when the profile was last published (processing time)
        self.profile_pending = False  # a newer profile waits for its publication
        self.segment = -1  # assigned when the profile is published (-1: not yet)

    def update(self, event: Event, population: Population, config: ProfileConfig) -> None:
        """Learns from one clean event (and feeds the population statistics)."""
        self.event_count += 1
        code = TYPE_CODES[event.event_type]
        self.type_counts[code] = self.type_counts.get(code, 0) + 1
        self.first_seen = min(self.first_seen or event.ts, event.ts)
        reference, self.last_seen = self.last_seen, max(self.last_seen, event.ts)
        self.last_event_id = event.event_id
        self._update_context(event)
        view = event.event_type == "product_view"
        complete = not view or (event.dwell_ms is not None and event.scroll_depth is not None)
        closing = self.sessions.length_ms
        if self.sessions.update(event.ts, complete, config.session_gap_ms) \
                and self.sessions.count > 1:
            self.last_session_ms = closing
            self.session_length.add(math.log1p(closing))
            population.session.add(math.log1p(closing))
        if view:
            self._update_dwell(event, population, config)
        self._update_windows(event)
        self._update_items(event, population, config, reference)

    def _update_context(self, event: Event) -> None:
        for name in _CONTEXT_FIELDS:
            value = getattr(event, name)
            if value:
                self.context[name] = value
        if event.user_agent:
            kind, os_family, browser = parse_agent(event.user_agent)
            self.context.update(device_type=kind, os=os_family, browser=browser)

    def _update_dwell(self, event: Event, population: Population, config: ProfileConfig) -> None:
        """Observed values train the statistics; missing ones are imputed from the user's own
        mean, else from the views of similar users (same device type, same category: k nearest
        neighbours), else the population's mean, and marked (imputed values never train)."""
        similar = self._imputation_features(event)
        if event.dwell_ms is not None:
            self.last_dwell, self.last_dwell_imputed = float(event.dwell_ms), False
            self.dwell.add(math.log1p(event.dwell_ms))
            population.dwell.add(math.log1p(event.dwell_ms))
            population.dwell_neighbours.learn_one(similar, math.log1p(event.dwell_ms))
        else:
            mean = self.dwell.mean if self.dwell.n >= 3 else \
                population.dwell_neighbours.predict_one(similar)
            mean = population.dwell.mean if mean is None else mean
            self.last_dwell, self.last_dwell_imputed = math.expm1(mean), True
        if event.scroll_depth is not None:
            self.last_scroll, self.last_scroll_imputed = event.scroll_depth, False
            self.scroll.add(event.scroll_depth)
            population.scroll.add(event.scroll_depth)
        else:
            source = self.scroll if self.scroll.n >= 3 else population.scroll
            self.last_scroll, self.last_scroll_imputed = source.mean, True

    def _imputation_features(self, event: Event) -> dict[str, float]:
        """Who is viewing what, for imputing from similar users' views."""
        device = self.context.get("device_type") or self.context.get("device", "")
        return {f"device:{device}": 1.0, f"category:{event.category or ''}": 1.0}

    def _update_windows(self, event: Event) -> None:
        # Small integer keys and values keep the pickled state compact (see WINDOW_KEYS).
        weight = int(EVENT_WEIGHTS.get(event.event_type, 0))
        for window in self.windows:
            window.add(TYPE_CODES[event.event_type], 1, event.ts)
            if event.category and weight > 0:
                window.add(event.category, weight, event.ts)
            if event.dwell_ms is not None:
                window.add(DWELL_KEY, event.dwell_ms, event.ts)
            if event.scroll_depth is not None:
                window.add(SCROLL_KEY, event.scroll_depth, event.ts)
                window.add(SCROLL_N_KEY, 1, event.ts)

    def recent_times(self, reference: int | None = None) -> list[int]:
        """When each recent item was last interacted with (event time, to the minute; 0:
        unknown), as encoded against ``reference`` (default: last_seen)."""
        now = (self.last_seen if reference is None else reference) // MINUTE
        times = [(now - age) * MINUTE if age >= 0 else 0 for age in self.recent_seen]
        return (times + [0] * len(self.recent_items))[:len(self.recent_items)]

    def _update_items(self, event: Event, population: Population,
                      config: ProfileConfig, reference: int) -> None:
        item = event.item_id
        if item is None:
            return
        if event.event_type != "skip":
            seen = dict(zip(self.recent_items, self.recent_times(reference), strict=True))
            seen[item] = max(seen.get(item, 0), event.ts)
            self.recent_items = _push_front(self.recent_items, item, config.recent_n)
            now = self.last_seen // MINUTE
            self.recent_seen = [now - seen[i] // MINUTE if seen.get(i) else -1
                                for i in self.recent_items]
        if event.event_type == "add_to_cart":
            self.cart = _push_front(self.cart, item, config.recent_n)
        elif event.event_type in ("purchase", "remove_from_cart") and item in self.cart:
            self.cart = [i for i in self.cart if i != item]
        if event.event_type == "purchase":
            self.purchased = _push_front(self.purchased, item, config.purchased_n)
            gap = self.rfm.recency_days(event.ts) if self.rfm.purchases else None
            self.rfm.add_purchase(event.ts, (event.price or 0.0) * (event.quantity or 1))
            population.rfm.add(gap, self.rfm.purchases, self.rfm.monetary)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        self.affinity.add(item, weight)
        if event.category:
            self.preferences.add(event.category, weight, event.ts)
            self.preferences.prune(config.max_categories)

    def record_filtered(self, rule: str, ts: int, flagged_until: int) -> None:
        self.filtered += 1
        if rule.startswith("flagged:") or flagged_until > ts:
            self.flag_rule = rule.removeprefix("flagged:")
            self.flagged_until = max(self.flagged_until, flagged_until)

    def category_weights(self, limit: int = 5) -> dict[str, float]:
        """Recency-weighted category preferences, normalised to sum to one."""
        return self.preferences.vector(limit)

    def interactions(self) -> dict[str, float]:
        """The user's weighted interactions per item (what factorisation folds in)."""
        return dict(self.affinity.items)


def _push_front(items: list[str], item: str, limit: int) -> list[str]:
    return [item, *(i for i in items if i != item)][:limit]
