"""Baselines of the prequential evaluation, each with ``learn(event)`` and
``recommend(user, k, now_ms)``: most popular, recent trending, the user's own recent items,
item-to-item co-occurrence over the user's last items (plain, after the user's own items, and
cosine-normalised item-kNN), session kNN (SKNN, V-SKNN), and batch implicit ALS retrained once
per simulated day.

>>> from reco.events import Event
>>> recent = UserRecent()
>>> for n, item in enumerate(["a", "b", "a"]):
...     recent.learn(Event(f"e{n}", "product_view", "u", ts=n, item_id=item))
>>> recent.recommend("u", 5, 3)
['a', 'b']
"""

from __future__ import annotations

from collections import defaultdict

from features.trending import TopItems
from online_models.als import ImplicitALS
from online_models.interactions import training_data
from online_models.session_knn import SessionKNN
from reco.decay import EVENT_WEIGHTS, add_decayed
from reco.events import Event

DAY_MS = 86_400_000


def _weight(event: Event) -> float:
    return EVENT_WEIGHTS.get(event.event_type, 0.0) if event.item_id else 0.0


class MostPopular:
    name = "most popular"

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.top = TopItems(100)

    def learn(self, event: Event) -> None:
        weight = _weight(event)
        if weight > 0 and event.item_id:
            self.counts[event.item_id] = self.counts.get(event.item_id, 0.0) + weight
            self.top.offer(event.item_id, self.counts[event.item_id])

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        return [item for item, _ in self.top.ranked()[:k]]


class RecentTrending(MostPopular):
    """Decayed weighted counts (half-life ``half_life_ms``, a sliding window's smooth twin)."""

    name = "recent trending"

    def __init__(self, half_life_ms: int = DAY_MS) -> None:
        super().__init__()
        self.half_life_ms = half_life_ms

    def learn(self, event: Event) -> None:
        weight = _weight(event)
        if weight > 0 and event.item_id:
            score = add_decayed(self.counts.get(event.item_id), weight, event.ts,
                                self.half_life_ms)
            self.counts[event.item_id] = score
            self.top.offer(event.item_id, score)


class UserRecent:
    """The user's own most recent distinct items."""

    name = "user's recent items"

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self.items: dict[str, list[str]] = {}

    def learn(self, event: Event) -> None:
        if event.item_id and _weight(event) > 0:
            mine = self.items.get(event.user_id, [])
            self.items[event.user_id] = [event.item_id,
                                         *(i for i in mine if i != event.item_id)][:self.keep]

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        return self.items.get(user, [])[:k]


class CoOccurrence(UserRecent):
    """Items that co-occurred with the user's last ``window`` items in other users' histories
    (each user's last ``window`` items count as co-occurring)."""

    name = "co-occurrence (last 20)"

    def __init__(self, window: int = 20) -> None:
        super().__init__(keep=window)
        self.pairs: dict[str, dict[str, float]] = defaultdict(dict)

    def learn(self, event: Event) -> None:
        if event.item_id and _weight(event) > 0:
            item = event.item_id
            for other in self.items.get(event.user_id, []):
                if other != item:
                    self.pairs[item][other] = self.pairs[item].get(other, 0.0) + 1.0
                    self.pairs[other][item] = self.pairs[other].get(item, 0.0) + 1.0
        super().learn(event)

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        scores: dict[str, float] = {}
        for item in self.items.get(user, []):
            for other, count in self.pairs.get(item, {}).items():
                scores[other] = scores.get(other, 0.0) + count
        return sorted(scores, key=lambda i: (-scores[i], i))[:k]


class DailyALS:
    """Implicit ALS retrained on everything so far once per simulated day; users folded in."""

    name = "batch ALS (daily)"

    def __init__(self, factors: int = 32, seed: int = 0) -> None:
        self.factors = factors
        self.seed = seed
        self.events: list[Event] = []
        self.model: ImplicitALS | None = None
        self.trained_day = -1
        self.user_items: dict[str, dict[str, float]] = defaultdict(dict)

    def learn(self, event: Event) -> None:
        weight = _weight(event)
        if weight > 0 and event.item_id:
            self.events.append(event)
            mine = self.user_items[event.user_id]
            mine[event.item_id] = mine.get(event.item_id, 0.0) + weight

    def _retrain(self, now_ms: int) -> None:
        day = now_ms // DAY_MS
        if day == self.trained_day or not self.events:
            return
        self.trained_day = day
        data = training_data(self.events, now_ms, 7 * DAY_MS, ipw_exponent=0.0, holdout=False)
        self.model = ImplicitALS(self.factors, iterations=8, seed=self.seed).fit(
            data.users, data.items, data.weights)

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        self._retrain(now_ms)
        if self.model is None or user not in self.user_items:
            return []
        vector = self.model.fold_in(self.user_items[user])
        return [item for item, _ in self.model.recommend(vector, k)]


class HistoryThenCoOccurrence(CoOccurrence):
    """The user's recent items first, then the items that co-occur with them."""

    name = "recent items + co-occurrence"

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        own = self.items.get(user, [])[:k]
        others = [i for i in super().recommend(user, k + len(own), now_ms) if i not in own]
        return (own + others)[:k]


class ItemKNN(CoOccurrence):
    """Item-to-item kNN: co-occurrence counts normalised by the items' own counts (cosine),
    summed over the user's last items."""

    name = "item-kNN (cosine)"

    def __init__(self, window: int = 20) -> None:
        super().__init__(window)
        self.seen: dict[str, float] = {}

    def learn(self, event: Event) -> None:
        if event.item_id and _weight(event) > 0:
            self.seen[event.item_id] = self.seen.get(event.item_id, 0.0) + 1.0
        super().learn(event)

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        scores: dict[str, float] = {}
        for item in self.items.get(user, []):
            for other, count in self.pairs.get(item, {}).items():
                norm = (self.seen.get(item, 1.0) * self.seen.get(other, 1.0)) ** 0.5
                scores[other] = scores.get(other, 0.0) + count / norm
        return sorted(scores, key=lambda i: (-scores[i], i))[:k]


class SessionKNNBaseline:
    """SKNN or V-SKNN (online_models/session_knn.py) over each user's sessions (a gap of
    ``gap_ms`` starts a new one), each indexed as it grows: the current session, else the
    user's last, is the query."""

    def __init__(self, weighted: bool, gap_ms: int = 30 * 60_000) -> None:
        self.name = "V-SKNN" if weighted else "SKNN"
        self.model = SessionKNN(weighted=weighted)
        self.gap_ms = gap_ms
        # user -> (session start, last ts, items)
        self.open: dict[str, tuple[int, int, list[str]]] = {}

    def learn(self, event: Event) -> None:
        if not event.item_id or _weight(event) <= 0:
            return
        start, last_ts, items = self.open.get(event.user_id, (event.ts, event.ts, []))
        if items and event.ts - last_ts > self.gap_ms:
            start, items = event.ts, []
        items = [*items, event.item_id]
        self.open[event.user_id] = (start, max(last_ts, event.ts), items)
        self.model.learn_one(items, key=f"{event.user_id}@{start}")

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        start, _, items = self.open.get(user, (0, 0, []))
        return [item for item, _ in self.model.predict_one(items, k, own=f"{user}@{start}")]
