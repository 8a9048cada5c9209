"""Per-user state kept by the job: counts, recent and purchased items, a sliding window of
category interest, and the last context. Pure logic; the Flink operator stores it in RocksDB.

>>> from reco.events import Event
>>> p = UserProfileState(window_ms=86_400_000, bucket_ms=3_600_000, recent_n=3, purchased_n=5)
>>> for i, (kind, item) in enumerate([("product_view", "a"), ("purchase", "b"),
...                                   ("product_view", "a")]):
...     p.update(Event(f"e{i}", kind, "u1", ts=1_000 * i, item_id=item, category="shoes"))
>>> p.recent_items, p.purchased, p.category_weights()
(['a', 'b'], ['b'], {'shoes': 1.0})
"""

from __future__ import annotations

from features.trending import EVENT_WEIGHTS
from features.windows import SlidingWindowSum
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb

_CONTEXT_FIELDS = ("device", "country", "region", "timezone", "user_agent")


class UserProfileState:
    __slots__ = ("categories", "context", "event_count", "first_seen", "last_event_id",
                 "last_seen", "published", "purchased", "purchased_n", "recent_items",
                 "recent_n", "type_counts")

    def __init__(self, window_ms: int, bucket_ms: int, recent_n: int, purchased_n: int) -> None:
        self.event_count = 0
        self.type_counts: dict[str, int] = {}
        self.recent_items: list[str] = []
        self.purchased: list[str] = []
        self.recent_n = recent_n
        self.purchased_n = purchased_n
        self.categories = SlidingWindowSum(window_ms, bucket_ms)
        self.context: dict[str, str] = {}
        self.first_seen = 0
        self.last_seen = 0
        self.last_event_id = ""
        self.published: tuple[str, ...] = ()  # item ids of the last list sent out

    def update(self, event: Event) -> None:
        self.event_count += 1
        self.type_counts[event.event_type] = self.type_counts.get(event.event_type, 0) + 1
        self.first_seen = event.ts if not self.first_seen else min(self.first_seen, event.ts)
        self.last_seen = max(self.last_seen, event.ts)
        self.last_event_id = event.event_id
        for name in _CONTEXT_FIELDS:
            value = getattr(event, name)
            if value:
                self.context[name] = value
        self.categories.advance(event.ts)  # the window ends at the user's latest event
        item = event.item_id
        if item is None:
            return
        if event.event_type != "skip":
            self.recent_items = _push_front(self.recent_items, item, self.recent_n)
        if event.event_type == "purchase":
            self.purchased = _push_front(self.purchased, item, self.purchased_n)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if event.category and weight > 0:
            self.categories.add(event.category, weight, event.ts)

    def category_weights(self) -> dict[str, float]:
        """Category interest over the window, normalised to sum to one."""
        totals = self.categories.totals()
        norm = sum(totals.values())
        return {c: v / norm for c, v in totals.items()} if norm > 0 else {}

    def to_proto(self, user_id: str, updated_at_ms: int, segment: str = "") -> pb.UserProfile:
        ranked = sorted(self.categories.totals().items(), key=lambda kv: (-kv[1], kv[0]))
        return pb.UserProfile(
            user_id=user_id, event_count=self.event_count, event_type_counts=self.type_counts,
            recent_item_ids=self.recent_items, purchased_item_ids=self.purchased,
            category_counts=[pb.CategoryCount(category=c, count=v) for c, v in ranked],
            last_context=pb.Context(**self.context),  # type: ignore[arg-type]
            first_seen_ms=self.first_seen,
            last_seen_ms=self.last_seen, last_event_id=self.last_event_id,
            updated_at_ms=updated_at_ms, segment=segment)


def _push_front(items: list[str], item: str, limit: int) -> list[str]:
    return [item, *(i for i in items if i != item)][:limit]
