"""The skeleton's per-user state, kept when the feature engine is switched off
(``feature_engine = false``): counts, purchased items and category preferences, enough for the
trending lists, and the recent event ids (the skeleton has no quality step to de-duplicate).
It exists so the feature engine's cost can be measured against the same job without it, and
for shops that only want trending lists.

>>> from reco.events import Event
>>> p = BasicProfile()
>>> for i, (kind, item) in enumerate([("product_view", "a"), ("purchase", "b")]):
...     p.update(Event(f"e{i}", kind, "u1", ts=1_000 * i, item_id=item, category="shoes",
...                    price=10.0))
>>> p.event_count, p.purchased, p.category_weights()
(2, ['b'], {'shoes': 1.0})
>>> p.message("u1", now_ms=5_000).last_event_id
'e1'
"""

from __future__ import annotations

from features.affinity import CategoryPreferences
from features.dedup import RecentIds
from reco.decay import EVENT_WEIGHTS
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb

MAX_CATEGORIES = 12


class BasicProfile:
    __slots__ = ("event_count", "filtered", "last_event_id", "last_seen", "preferences",
                 "profile_pending", "profile_sent_ms", "published", "purchased", "purchased_n",
                 "recent_ids", "segment")

    def __init__(self, half_life_ms: int = 7 * 86_400_000, purchased_n: int = 50,
                 dedup_window: int = 256) -> None:
        self.recent_ids = RecentIds(dedup_window)
        self.event_count = self.filtered = self.last_seen = 0
        self.last_event_id = ""
        self.purchased: list[str] = []
        self.purchased_n = purchased_n
        self.preferences = CategoryPreferences(half_life_ms)
        self.published = 0
        self.profile_sent_ms = 0
        self.profile_pending = False
        self.segment = -1

    def update(self, event: Event) -> None:
        """Learns from ``event``; a redelivered event id changes nothing."""
        if self.recent_ids.seen_or_add(event.event_id):
            return
        self.event_count += 1
        self.last_seen = max(self.last_seen, event.ts)
        self.last_event_id = event.event_id
        if event.event_type == "purchase" and event.item_id is not None:
            self.purchased = [event.item_id, *self.purchased][:self.purchased_n]
        if event.category:
            self.preferences.add(event.category, EVENT_WEIGHTS.get(event.event_type, 0.0),
                                 event.ts)
            self.preferences.prune(MAX_CATEGORIES)

    def record_filtered(self) -> None:
        self.filtered += 1

    def category_weights(self, limit: int = 5) -> dict[str, float]:
        return self.preferences.vector(limit)

    def interactions(self) -> dict[str, float]:
        return {}

    @property
    def cart(self) -> list[str]:
        return []

    def message(self, user_id: str, now_ms: int) -> pb.UserProfile:
        return pb.UserProfile(user_id=user_id, event_count=self.event_count,
                              purchased_item_ids=self.purchased,
                              last_seen_ms=self.last_seen, last_event_id=self.last_event_id,
                              updated_at_ms=now_ms,
                              category_preferences=self.preferences.vector(),
                              filtered_events=self.filtered)
